import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useConnectionStore } from './connection'

beforeEach(() => setActivePinia(createPinia()))

describe('connection store', () => {
  it('maps socket and browser state to live / reconnecting / offline', () => {
    const c = useConnectionStore()
    expect(c.status).toBe('offline')
    c.markConnecting()
    expect(c.status).toBe('reconnecting')
    c.markLive()
    expect(c.status).toBe('live')
    c.setBrowserOnline(false)
    expect(c.status).toBe('offline')
    c.setBrowserOnline(true)
    c.markReconnecting(4)
    expect(c.status).toBe('reconnecting')
    expect(c.attempt).toBe(4)
  })
})
