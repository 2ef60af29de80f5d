// Client-side checks for the admin's asset form (register and edit), driven by the server's
// own limits (GET /api/meta, passed in as `rules` from the meta store: limits, createStatuses,
// defaultCurrency); the server stays the authority and its 422 field errors and 409 conflicts are shown too.

const TAG = /^[A-Za-z0-9._-]+$/
const MONEY = /^\d+(\.\d{1,2})?$/
const CURRENCY = /^[A-Z]{3}$/

const blank = (v) => v === undefined || v === null || String(v).trim() === ''
const text = (v) => (blank(v) ? '' : String(v).trim())

/** An empty form for a new asset, or one filled from `asset` for an edit. */
export function assetForm(asset = null, rules = null) {
  return {
    tag: asset?.tag ?? '',
    name: asset?.name ?? '',
    category: asset?.category ?? '',
    value: asset?.value ?? '',
    currency: asset?.currency ?? rules?.defaultCurrency ?? '',
    location: asset?.location ?? '',
    status: asset ? asset.status : 'in_stock',
    closeRepair: false,
  }
}

function checkText(value, max, { required = true } = {}) {
  if (blank(value)) return required ? { key: 'required' } : null
  return text(value).length > max ? { key: 'tooLong', max } : null
}

function checkValue(value, maxValue) {
  if (blank(value)) return { key: 'required' }
  if (!MONEY.test(text(value))) return { key: 'assetValue' }
  return Number(value) > maxValue ? { key: 'assetValueRange' } : null
}

/**
 * Validate the asset form. `original` is the asset being edited (null when
 * registering). Returns `{field: {key, ...params}}`; empty means valid. Keys are
 * i18n keys under `validation.`.
 */
export function validateAsset(form, original, rules) {
  const ASSET_LIMITS = rules.limits
  const errors = {
    name: checkText(form.name, ASSET_LIMITS.name),
    category: checkText(form.category, ASSET_LIMITS.category),
    value: checkValue(form.value, ASSET_LIMITS.maxValue),
    currency: !blank(form.currency) && !CURRENCY.test(form.currency) ? { key: 'currency' } : null,
    location: checkText(form.location, ASSET_LIMITS.location, { required: false }),
  }
  if (!original) {
    errors.tag = checkText(form.tag, ASSET_LIMITS.tag) || (TAG.test(text(form.tag)) ? null : { key: 'tag' })
    errors.status = rules.createStatuses.includes(form.status) ? null : { key: 'required' }
  } else if (form.closeRepair) {
    // Closing a repair is a status change: the server refuses it while a request is pending.
    if (original.status !== 'in_repair') errors.status = { key: 'notInRepair' }
    else if (original.locked) errors.status = { key: 'locked' }
  }
  return Object.fromEntries(Object.entries(errors).filter(([, e]) => e))
}

/** The POST body for a valid new-asset form. */
export function toCreatePayload(form) {
  const body = {
    tag: text(form.tag),
    name: text(form.name),
    category: text(form.category),
    value: text(form.value),
    status: form.status,
  }
  if (!blank(form.currency)) body.currency = form.currency
  if (!blank(form.location)) body.location = text(form.location)
  return body
}

/**
 * The PATCH body for a valid edit: only what changed (so an untouched status is
 * never sent, and a pending request does not block renaming).
 */
export function toUpdatePayload(form, original) {
  const next = {
    name: text(form.name),
    category: text(form.category),
    value: text(form.value),
    currency: blank(form.currency) ? original.currency : form.currency,
    location: text(form.location),
  }
  const body = {}
  for (const [field, value] of Object.entries(next)) {
    const before = field === 'value' ? Number(original.value) : (original[field] ?? '')
    const after = field === 'value' ? Number(value) : value
    if (after !== before) body[field] = value
  }
  if (form.closeRepair) body.status = 'in_stock'
  return body
}
