// The webhook form's rules, as the server checks them (WebhookCreate / WebhookUpdate in the API).
export const SECRET_MIN = 16
export const SECRET_MAX = 200
export const URL_MAX = 2000

/** The form's starting values: empty for a new webhook, the webhook's own (no secret: it never comes back). */
export function webhookForm(hook) {
  return { url: hook?.url || '', events: [...(hook?.events || [])], secret: '' }
}

function isHttpUrl(text) {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && !!url.hostname
  } catch {
    return false
  }
}

/** Field → {key, ...params} for what the server would refuse; editing, an empty secret keeps the old one. */
export function validateWebhook(form, editing) {
  const errors = {}
  const url = form.url.trim()
  if (!url) errors.url = { key: 'required' }
  else if (url.length > URL_MAX) errors.url = { key: 'tooLong', max: URL_MAX }
  else if (!isHttpUrl(url)) errors.url = { key: 'httpUrl' }
  if (!form.events.length) errors.events = { key: 'chooseEvent' }
  if (form.secret || !editing) {
    if (form.secret.length < SECRET_MIN || form.secret.length > SECRET_MAX) {
      errors.secret = { key: 'secretLength', min: SECRET_MIN, max: SECRET_MAX }
    }
  }
  return errors
}

export function toCreatePayload(form) {
  return { url: form.url.trim(), events: [...form.events], secret: form.secret }
}

/** Only what changed; an empty secret is left out (the server keeps the old one). */
export function toUpdatePayload(form, hook) {
  const body = {}
  if (form.url.trim() !== hook.url) body.url = form.url.trim()
  const same = form.events.length === hook.events.length && form.events.every((e) => hook.events.includes(e))
  if (!same) body.events = [...form.events]
  if (form.secret) body.secret = form.secret
  return body
}

/** 32 random bytes as 64 hex digits, from the browser's CSPRNG. */
export function generateSecret(random = globalThis.crypto) {
  const bytes = random.getRandomValues(new Uint8Array(32))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
