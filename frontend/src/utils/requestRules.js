// Client-side checks for a new request, driven only by the server's kind specs (GET /api/meta `kinds`:
// each kind's fields with their types and limits, the asset statuses it fits and who may ask per status),
// passed in as `rules` from the meta store, so most mistakes are caught before a round trip and a kind the
// server adds needs no code here. The server stays the authority: its 422/403 field errors are shown too.

const blank = (v) => v === undefined || v === null || String(v).trim() === ''
export const MONEY = /^\d+(\.\d{1,2})?$/
const CURRENCY = /^[A-Z]{3}$/

/** The spec of a kind (an entry of /api/meta `kinds`), or undefined. */
export function specOf(rules, kind) {
  return rules.kindSpecs[kind]
}

/** Who may ask for `spec` on an asset with `status`: 'anyone', 'custodian' (only the asset's holder) or null. */
export function askerFor(spec, status, user) {
  const who = spec.who_may_ask?.[status]
  if (!who) return null
  if (user?.role === 'admin' || who.includes('anyone') || who.includes(user?.role)) return 'anyone'
  return who.includes('custodian') ? 'custodian' : null
}

/** Whether `user` may ask for `spec` on `asset`, as the server's spec says (an admin always may). */
export function mayAsk(spec, asset, user) {
  const asker = askerFor(spec, asset.status, user)
  return asker === 'anyone' || (asker === 'custodian' && (asset.custodian?.id ?? null) === user?.id)
}

/** The kinds `user` may ask for at all: one without an asset, or one with a status they may ask it for. */
export function kindsFor(rules, user) {
  return rules.kinds.filter((name) => {
    const spec = specOf(rules, name)
    return !spec.takes_asset || Object.keys(spec.who_may_ask).some((s) => askerFor(spec, s, user))
  })
}

/**
 * How to search the assets `user` may pick for `spec`: `{status, custodian_id}` (either may be undefined),
 * narrowing the server's search as far as one query can; `mayAsk` filters the rest.
 */
export function assetSearchFor(spec, user) {
  const statuses = Object.keys(spec.who_may_ask || {}).filter((s) => askerFor(spec, s, user))
  const onlyOwn = statuses.length > 0 && statuses.every((s) => askerFor(spec, s, user) === 'custodian')
  return {
    status: statuses.length === 1 ? statuses[0] : undefined,
    custodian_id: onlyOwn ? user?.id : undefined,
  }
}

/** The empty form for every field of every kind, defaults filled in (e.g. the currency). */
export function emptyForm(rules, kind) {
  const form = { kind, reason: '' }
  for (const spec of Object.values(rules.kindSpecs)) {
    for (const field of spec.fields) {
      form[field.name] ??= field.default ?? (field.type === 'asset' || field.type === 'user' ? null : '')
    }
  }
  return form
}

/**
 * Validate a submit form. `asset` is the chosen asset object (or null), `user`
 * the applicant. Returns `{field: messageKey}`; empty means valid. Message keys
 * are i18n keys under `validation.`, with params where needed.
 */
export function validateRequest(form, { asset = null, user = null, rules }) {
  const errors = {}
  const spec = specOf(rules, form.kind)
  if (!spec) {
    errors.kind = { key: 'required' }
    return errors
  }
  const LIMITS = rules.limits
  if (blank(form.reason)) errors.reason = { key: 'required' }
  else if (form.reason.length > LIMITS.reason) errors.reason = { key: 'tooLong', max: LIMITS.reason }
  for (const field of spec.fields) {
    const error = checkField(field, form[field.name], { spec, asset, user, limits: LIMITS })
    if (error) errors[field.name] = error
  }
  return errors
}

function checkField(field, value, { spec, asset, user, limits }) {
  if (field.type === 'asset') return checkAsset(spec, value, asset, user)
  if (blank(value)) return field.required && field.default == null ? { key: 'required' } : null
  if (field.type === 'text' && value.trim().length > field.max_length) {
    return { key: 'tooLong', max: field.max_length }
  }
  if (field.type === 'money') {
    if (!MONEY.test(String(value).trim())) return { key: 'money' }
    const amount = Number(value)
    if (amount <= 0 || amount > limits.maxValue) return { key: 'moneyRange' }
  }
  if (field.type === 'currency' && !CURRENCY.test(value)) return { key: 'currency' }
  if (field.not_custodian && asset && value === (asset.custodian?.id ?? null)) return { key: 'sameCustodian' }
  return null
}

function checkAsset(spec, assetId, asset, user) {
  if (blank(assetId) || !asset) return { key: 'required' }
  if (!spec.fits.includes(asset.status)) return { key: 'kindDoesNotFit', status: asset.status }
  if (asset.locked) return { key: 'locked' }
  if (user && !mayAsk(spec, asset, user)) {
    const onlyCustodian = spec.who_may_ask[asset.status].every((who) => who === 'custodian')
    return onlyCustodian ? { key: 'notCustodian' } : { key: 'mayNotAsk', status: asset.status }
  }
  return null
}

/** The request body for a valid form: only the fields that kind takes (an optional one left blank is left out). */
export function toPayload(form, rules) {
  const body = { kind: form.kind, reason: form.reason.trim() }
  for (const field of specOf(rules, form.kind).fields) {
    const value = form[field.name]
    if (blank(value)) continue
    body[field.name] = field.type === 'text' || field.type === 'money' ? String(value).trim() : value
  }
  return body
}

/** The fields an applicant may change of a filed request: its reason and its kind's own fields (not its asset). */
export function editableFields(rules, kind) {
  return (specOf(rules, kind)?.fields || []).filter((f) => f.type !== 'asset')
}

/** The edit form of a filed request: its reason and own fields as they are now (money as text). */
export function editForm(req, rules) {
  const form = { reason: req.reason ?? '' }
  for (const field of editableFields(rules, req.kind)) {
    const value = field.type === 'user' ? (req[field.name.replace(/_id$/, '')]?.id ?? null) : req[field.name]
    form[field.name] = value ?? (field.type === 'user' ? null : '')
  }
  return form
}

/** Validate an edit form as a submit of that kind would be (its reason and own fields). */
export function validateEdit(form, kind, rules) {
  const errors = {}
  const LIMITS = rules.limits
  if (blank(form.reason)) errors.reason = { key: 'required' }
  else if (form.reason.length > LIMITS.reason) errors.reason = { key: 'tooLong', max: LIMITS.reason }
  const spec = specOf(rules, kind)
  for (const field of editableFields(rules, kind)) {
    const error = checkField(field, form[field.name], { spec, asset: null, user: null, limits: LIMITS })
    if (error) errors[field.name] = error
  }
  return errors
}

/** The PATCH body: only what differs from `original` (the edit form as it was opened). */
export function editPayload(form, original) {
  const body = {}
  for (const [name, value] of Object.entries(form)) {
    const now = typeof value === 'string' ? value.trim() : value
    const before = typeof original[name] === 'string' ? original[name].trim() : original[name]
    const same = now === before || (name === 'value' && Number(now) === Number(before))
    if (!same && !blank(now)) body[name] = now
  }
  return body
}

/**
 * The rule simulator's body for this form (POST /api/approval-rules/simulate), or null until the fields the
 * rules route by are there: the asset (its category and value route it), or a valid value (and the category)
 * of a request for a new asset.
 */
export function simulateBody(form, rules) {
  const spec = specOf(rules, form.kind)
  if (!spec) return null
  if (spec.takes_asset) return form.asset_id ? { kind: form.kind, asset_id: form.asset_id } : null
  const value = String(form.value ?? '').trim()
  if (!MONEY.test(value)) return null
  return blank(form.category) ? { kind: form.kind, value } : { kind: form.kind, value, category: form.category.trim() }
}
