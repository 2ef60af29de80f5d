// Client-side checks for a new request, driven by the server's own rules (GET /api/meta,
// passed in as `rules` from the meta store: kinds, kindFits, limits), so most mistakes are
// caught before a round trip; the server stays the authority and its 422 field errors are shown too.

const blank = (v) => v === undefined || v === null || String(v).trim() === ''

/**
 * Validate a submit form. `asset` is the chosen asset object (or null), `user`
 * the applicant. Returns `{field: messageKey}`; empty means valid. Message keys
 * are i18n keys under `validation.`, with params where needed.
 */
export function validateRequest(form, { asset = null, user = null, rules }) {
  const errors = {}
  const LIMITS = rules.limits
  if (!rules.kinds.includes(form.kind)) {
    errors.kind = { key: 'required' }
    return errors
  }
  if (blank(form.reason)) errors.reason = { key: 'required' }
  else if (form.reason.length > LIMITS.reason) errors.reason = { key: 'tooLong', max: LIMITS.reason }

  if (form.kind === 'acquire') Object.assign(errors, validateAcquire(form, LIMITS))
  else Object.assign(errors, validateAssetKind(form, asset, user, rules.kindFits))
  return errors
}

function validateAcquire(form, LIMITS) {
  const errors = {}
  if (blank(form.name)) errors.name = { key: 'required' }
  else if (form.name.trim().length > LIMITS.name) errors.name = { key: 'tooLong', max: LIMITS.name }
  if (blank(form.category)) errors.category = { key: 'required' }
  else if (form.category.trim().length > LIMITS.category) {
    errors.category = { key: 'tooLong', max: LIMITS.category }
  }
  if (blank(form.value)) errors.value = { key: 'required' }
  else if (!/^\d+(\.\d{1,2})?$/.test(String(form.value).trim())) errors.value = { key: 'money' }
  else {
    const value = Number(form.value)
    if (value <= 0 || value > LIMITS.maxValue) errors.value = { key: 'moneyRange' }
  }
  if (!blank(form.currency) && !/^[A-Z]{3}$/.test(form.currency)) errors.currency = { key: 'currency' }
  return errors
}

function validateAssetKind(form, asset, user, KIND_FITS) {
  const errors = {}
  if (blank(form.asset_id) || !asset) {
    errors.asset_id = { key: 'required' }
    return errors
  }
  if (!KIND_FITS[form.kind].includes(asset.status)) {
    errors.asset_id = { key: 'kindDoesNotFit', status: asset.status }
  } else if (asset.locked) {
    errors.asset_id = { key: 'locked' }
  }
  if (form.kind === 'transfer') {
    const custodianId = asset.custodian?.id ?? null
    if (blank(form.target_user_id)) errors.target_user_id = { key: 'required' }
    else if (form.target_user_id === custodianId) errors.target_user_id = { key: 'sameCustodian' }
    if (!errors.asset_id && user && user.role !== 'admin' && custodianId !== user.id) {
      errors.asset_id = { key: 'notCustodian' }
    }
  }
  return errors
}

/** The request body for a valid form: only the fields that kind takes. */
export function toPayload(form) {
  const body = { kind: form.kind, reason: form.reason.trim() }
  if (form.kind === 'acquire') {
    body.name = form.name.trim()
    body.category = form.category.trim()
    body.value = String(form.value).trim()
    if (!blank(form.currency)) body.currency = form.currency
  } else {
    body.asset_id = form.asset_id
  }
  if (form.kind === 'transfer') body.target_user_id = form.target_user_id
  return body
}
