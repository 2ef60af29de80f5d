import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAuthStore } from './auth'
import { api } from '@/services/api'
import { ALICE, installFakeFetch, makeToken, seedSession } from '@/testing/fakeFetch'

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})

describe('auth store', () => {
  it('logs in, keeps the session across reloads, and logs out', async () => {
    const net = installFakeFetch({
      'POST /api/auth/login': () => [200, { access_token: makeToken(), refresh_token: 'r1', user: ALICE }],
      'POST /api/auth/logout': () => [200, { revoked: true }],
    })
    const auth = useAuthStore()
    await auth.login('alice', 'pw')
    expect(auth.isAuthenticated).toBe(true)
    expect(JSON.parse(localStorage.getItem('assetflow.session')).user.username).toBe('alice')

    setActivePinia(createPinia())
    const again = useAuthStore()
    expect(again.user.username).toBe('alice')
    await again.logout()
    expect(net.callsTo('POST /api/auth/logout')[0].body).toEqual({ refresh_token: 'r1' })
    expect(again.isAuthenticated).toBe(false)
    expect(localStorage.getItem('assetflow.session')).toBeNull()
  })

  it('shares one refresh between concurrent callers and sends the refresh token', async () => {
    seedSession(ALICE, makeToken(5), 'refresh-tok')
    const fresh = makeToken(900)
    const net = installFakeFetch({ 'POST /api/auth/refresh': () => [200, { access_token: fresh }] })
    const auth = useAuthStore()
    const [a, b] = await Promise.all([auth.ensureFreshToken(), auth.ensureFreshToken()])
    expect(a).toBe(fresh)
    expect(b).toBe(fresh)
    const calls = net.callsTo('POST /api/auth/refresh')
    expect(calls).toHaveLength(1)
    expect(calls[0].headers.Authorization).toBe('Bearer refresh-tok')
  })

  it('does not refresh a token that is still comfortably valid', async () => {
    const token = makeToken(900)
    seedSession(ALICE, token)
    const net = installFakeFetch()
    expect(await useAuthStore().ensureFreshToken()).toBe(token)
    expect(net.calls).toHaveLength(0)
  })

  it('refreshes on a timer shortly before expiry', async () => {
    vi.useFakeTimers()
    try {
      seedSession(ALICE, makeToken(120))
      const net = installFakeFetch({ 'POST /api/auth/refresh': () => [200, { access_token: makeToken(900) }] })
      useAuthStore()
      await vi.advanceTimersByTimeAsync(59_000)
      expect(net.calls).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(2_000)
      expect(net.callsTo('POST /api/auth/refresh')).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('clears the session as expired when a 401 survives the refresh', async () => {
    seedSession(ALICE, makeToken(900), 'dead-refresh')
    installFakeFetch({
      'GET /api/auth/me': () => [401, {}],
      'POST /api/auth/refresh': () => [401, { error: { code: 'unauthorized', message: 'revoked' } }],
    })
    const auth = useAuthStore()
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 401 })
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.endReason).toBe('expired')
  })
})

describe('auth store across tabs', () => {
  it('follows a logout made in another tab', () => {
    seedSession(ALICE)
    const auth = useAuthStore()
    expect(auth.isAuthenticated).toBe(true)
    localStorage.removeItem('assetflow.session')
    window.dispatchEvent(new StorageEvent('storage', { key: 'assetflow.session', newValue: null }))
    expect(auth.isAuthenticated).toBe(false)
  })
})
