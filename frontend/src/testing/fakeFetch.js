// A stand-in for the network under fetch(): routes 'METHOD /path' to handlers
// and records every call, so specs exercise the real API client and stores.
import { vi } from 'vitest'

export function installFakeFetch(routes = {}) {
  const calls = []
  const table = { ...routes }
  const fetch = vi.fn(async (url, init = {}) => {
    const u = new URL(url, 'http://localhost')
    const method = init.method || 'GET'
    const body = init.body ? JSON.parse(init.body) : undefined
    const call = {
      method,
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      body,
      headers: init.headers || {},
    }
    calls.push(call)
    const handler = table[`${method} ${u.pathname}`]
    if (!handler)
      return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }), { status: 404 })
    const [status, payload] = await handler(call)
    return new Response(payload === undefined ? '' : JSON.stringify(payload), { status })
  })
  vi.stubGlobal('fetch', fetch)
  return {
    calls,
    fetch,
    route(key, handler) {
      table[key] = handler
    },
    callsTo(key) {
      return calls.filter((c) => `${c.method} ${c.path}` === key)
    },
  }
}

/** An unsigned JWT that expires `seconds` from now (only `exp` is read client-side). */
export function makeToken(seconds = 900, extra = {}) {
  const enc = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
  const exp = Math.floor(Date.now() / 1000) + seconds
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ exp, sub: '1', ...extra })}.sig`
}

export const ALICE = { id: 1, username: 'alice', display_name: 'Alice Employee', role: 'employee' }
export const BOB = { id: 3, username: 'bob', display_name: 'Bob Approver', role: 'approver' }

/** Put a logged-in session in localStorage, as a previous visit would have left it. */
export function seedSession(user = ALICE, access = makeToken(), refresh = makeToken(86400)) {
  localStorage.setItem('assetflow.session', JSON.stringify({ accessToken: access, refreshToken: refresh, user }))
}

/** An approval_update payload as the server sends it. */
export function update(seq, overrides = {}) {
  return {
    event: 'approval_update',
    seq,
    notification_id: 100 + seq,
    request_id: 7,
    asset_id: 11,
    asset_tag: 'AST-001011',
    kind: 'assign',
    status: 'approved',
    step: 1,
    steps_total: 1,
    actor: { id: 3, name: 'Bob Approver' },
    comment: '',
    at: `2026-11-27T09:00:${String(seq).padStart(2, '0')}Z`,
    replayed: false,
    ...overrides,
  }
}

/** A notification row as GET /api/notifications returns it. */
export function row(seq, readAt = null) {
  const { replayed: _r, ...payload } = update(seq)
  return { id: 100 + seq, seq, type: 'approval_update', payload, created_at: payload.at, read_at: readAt }
}
