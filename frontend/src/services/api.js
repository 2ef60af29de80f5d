// The one HTTP client. It speaks JSON, injects the bearer token and, on a 401,
// asks the session for one refresh before giving up and expiring the session.
// The session (the auth store) plugs itself in with setSession(); this module
// never imports a store, so stores can import it without a cycle.

const BASE = (import.meta.env.VITE_API_BASE || '').replace(/\/$/, '')

/** An error answer from the server, in the shape of docs/api.md. */
export class ApiError extends Error {
  constructor(status, body) {
    const err = body?.error || {}
    super(err.message || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.code = err.code || (status === 0 ? 'network_error' : 'http_error')
    this.details = err.details || {}
  }
}

const noSession = {
  accessToken: () => null,
  refresh: async () => false,
  expire: () => {},
}
let session = noSession

/** Connect the client to whoever owns the tokens (the auth store). */
export function setSession(hooks) {
  session = hooks ? { ...noSession, ...hooks } : noSession
}

function buildUrl(path, query) {
  const url = `${BASE}${path}`
  if (!query) return url
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.append(key, value)
  }
  const qs = params.toString()
  return qs ? `${url}?${qs}` : url
}

async function send(method, url, body, token) {
  const headers = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  let response
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, { error: { message: 'Network error' } })
  }
  const text = await response.text()
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  return { status: response.status, ok: response.ok, data }
}

/**
 * Call the API. `auth: false` skips the token (login); `token` forces one
 * (refresh sends the refresh token). Resolves to the parsed JSON body.
 */
export async function request(method, path, { body, query, auth = true, token } = {}) {
  const url = buildUrl(path, query)
  const bearer = token || (auth ? session.accessToken() : null)
  let res = await send(method, url, body, bearer)
  // Only a call made with the session's own access token is worth a refresh.
  if (res.status === 401 && auth && !token) {
    if (await session.refresh()) {
      res = await send(method, url, body, session.accessToken())
    }
    if (res.status === 401) {
      session.expire()
    }
  }
  if (!res.ok) throw new ApiError(res.status, res.data)
  return res.data
}

/** GET a file (e.g. a CSV export) with the session's token; resolves to a Blob. */
async function blob(path, query) {
  const url = buildUrl(path, query)
  let response = await fetch(url, { headers: { Authorization: `Bearer ${session.accessToken()}` } })
  if (response.status === 401 && (await session.refresh())) {
    response = await fetch(url, { headers: { Authorization: `Bearer ${session.accessToken()}` } })
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null))
  return response.blob()
}

/** One XMLHttpRequest (fetch reports no upload progress); resolves to {status, ok, data} like send(). */
function xhrSend(method, url, form, token, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, url)
    xhr.setRequestHeader('Accept', 'application/json')
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    if (onProgress) {
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total)
    }
    xhr.onload = () => {
      let data
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        data = null
      }
      resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, data })
    }
    xhr.onerror = () => resolve({ status: 0, ok: false, data: { error: { message: 'Network error' } } })
    xhr.send(form)
  })
}

/**
 * POST a multipart body (a FormData of files) with the session's token, reporting upload progress as
 * `onProgress(loadedBytes, totalBytes)`. A 401 refreshes the session once and sends the body again.
 */
async function upload(path, form, { query, onProgress } = {}) {
  const url = buildUrl(path, query)
  let res = await xhrSend('POST', url, form, session.accessToken(), onProgress)
  if (res.status === 401) {
    if (await session.refresh()) res = await xhrSend('POST', url, form, session.accessToken(), onProgress)
    if (res.status === 401) session.expire()
  }
  if (!res.ok) throw new ApiError(res.status, res.data)
  return res.data
}

export const api = {
  blob,
  upload,
  get: (path, query, opts) => request('GET', path, { ...opts, query }),
  post: (path, body, opts) => request('POST', path, { ...opts, body: body ?? {} }),
  patch: (path, body, opts) => request('PATCH', path, { ...opts, body: body ?? {} }),
  put: (path, body, opts) => request('PUT', path, { ...opts, body: body ?? {} }),
  del: (path, opts) => request('DELETE', path, opts),
}
