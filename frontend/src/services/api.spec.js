import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, setSession } from './api'
import { installFakeFetch } from '@/testing/fakeFetch'

afterEach(() => setSession(null))

describe('api client', () => {
  it('sends JSON with the bearer token and drops empty query values', async () => {
    const net = installFakeFetch({ 'GET /api/assets': () => [200, { items: [] }] })
    setSession({ accessToken: () => 'tok' })
    await api.get('/api/assets', { q: 'lap', status: '', page: 2 })
    const [call] = net.calls
    expect(call.headers.Authorization).toBe('Bearer tok')
    expect(call.query).toEqual({ q: 'lap', page: '2' })
  })

  it('turns an error answer into an ApiError with code and details', async () => {
    installFakeFetch({
      'POST /api/requests/7/approve': () => [
        409,
        {
          error: {
            code: 'conflict',
            message: 'already decided',
            details: { decided_by: { id: 4, display_name: 'Carol' } },
          },
        },
      ],
    })
    const err = await api.post('/api/requests/7/approve', {}).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(409)
    expect(err.code).toBe('conflict')
    expect(err.details.decided_by.display_name).toBe('Carol')
  })

  it('on a 401 refreshes once and retries with the new token', async () => {
    let token = 'old'
    const net = installFakeFetch({
      'GET /api/auth/me': (c) => (c.headers.Authorization === 'Bearer new' ? [200, { id: 1 }] : [401, {}]),
    })
    const refresh = vi.fn(async () => {
      token = 'new'
      return true
    })
    const expire = vi.fn()
    setSession({ accessToken: () => token, refresh, expire })
    await expect(api.get('/api/auth/me')).resolves.toEqual({ id: 1 })
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(expire).not.toHaveBeenCalled()
    expect(net.calls).toHaveLength(2)
  })

  it('expires the session when the refresh does not help', async () => {
    installFakeFetch({ 'GET /api/auth/me': () => [401, { error: { code: 'unauthorized', message: 'expired' } }] })
    const expire = vi.fn()
    setSession({ accessToken: () => 'old', refresh: async () => false, expire })
    const err = await api.get('/api/auth/me').catch((e) => e)
    expect(err.status).toBe(401)
    expect(expire).toHaveBeenCalledTimes(1)
  })

  it('never refreshes for the login call itself', async () => {
    installFakeFetch({ 'POST /api/auth/login': () => [401, { error: { code: 'unauthorized', message: 'bad' } }] })
    const refresh = vi.fn()
    setSession({ accessToken: () => null, refresh })
    await expect(api.post('/api/auth/login', {}, { auth: false })).rejects.toMatchObject({ status: 401 })
    expect(refresh).not.toHaveBeenCalled()
  })

  it('reports a network failure as status 0', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    )
    await expect(api.get('/healthz')).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })
})
