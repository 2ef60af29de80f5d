import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useNotificationsStore } from './notifications'
import { ALICE, installFakeFetch, row, seedSession, update } from '@/testing/fakeFetch'

let net
let fresh

function setup({ lastSeq = 0, list = { items: [], unread_count: 0, last_seq: 0 } } = {}) {
  if (lastSeq !== null) localStorage.setItem(`assetflow.lastSeq.${ALICE.id}`, JSON.stringify(lastSeq))
  net = installFakeFetch({
    'GET /api/notifications': () => [200, typeof list === 'function' ? list() : list],
    'POST /api/notifications/101/read': () => [200, { ...row(1), read_at: '2026-11-27T10:00:00Z' }],
    'POST /api/notifications/read-all': () => [200, { updated: 2, count: 0 }],
  })
  const store = useNotificationsStore()
  fresh = []
  store.onFresh((payloads) => fresh.push(...payloads.map((p) => p.seq)))
  return store
}

beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  setActivePinia(createPinia())
})

describe('notifications store', () => {
  it('accepts events in order, counts them unread and persists last_seq per user', () => {
    const store = setup()
    expect(store.receive(update(1))).toBe('accepted')
    expect(store.receive(update(2))).toBe('accepted')
    expect(store.unreadCount).toBe(2)
    expect(store.items.map((n) => n.seq)).toEqual([2, 1])
    expect(localStorage.getItem('assetflow.lastSeq.1')).toBe('2')
    expect(fresh).toEqual([1, 2])
  })

  it('drops duplicates by notification_id and by an already-seen seq', () => {
    const store = setup()
    store.receive(update(1))
    expect(store.receive({ ...update(1), replayed: true })).toBe('duplicate')
    expect(store.receive(update(1, { notification_id: 999 }))).toBe('duplicate')
    expect(store.unreadCount).toBe(1)
    expect(store.items).toHaveLength(1)
    expect(fresh).toEqual([1])
  })

  it('holds back an event after a gap and falls back to HTTP when sync is impossible', async () => {
    const store = setup({
      list: () => ({ items: [row(3), row(2), row(1)], unread_count: 3, last_seq: 3 }),
    })
    store.receive(update(1))
    expect(store.receive(update(3))).toBe('gap')
    expect(store.items.map((n) => n.seq)).toEqual([1])
    // No socket is open in this spec, so sync fails and the list is refetched.
    await store.fillGap()
    expect(store.items.map((n) => n.seq)).toEqual([3, 2, 1])
    expect(store.unreadCount).toBe(3)
    expect(store.lastSeq).toBe(3)
    expect(fresh).toEqual([1, 2, 3])
  })

  it('takes the unread count from the server plus live events it had not counted', async () => {
    let release
    const store = setup({ lastSeq: 4 })
    net.route('GET /api/notifications', () => new Promise((r) => (release = r)))
    const pending = store.reconcile()
    await vi.waitFor(() => expect(release).toBeTypeOf('function'))
    // Arrives while the snapshot (taken at seq 5) is in flight: 5 is counted by the server, 6 is not.
    store.receive(update(5))
    store.receive(update(6))
    release([200, { items: [row(5), row(4, '2026-11-27T09:30:00Z')], unread_count: 7, last_seq: 5 }])
    await pending
    expect(store.unreadCount).toBe(8)
    expect(fresh).toEqual([5, 6])
  })

  it('on the very first visit adopts the server seq without toasting history', async () => {
    const store = setup({ lastSeq: null, list: { items: [row(9), row(8)], unread_count: 2, last_seq: 9 } })
    expect(store.lastSeq).toBeNull()
    await store.reconcile()
    expect(store.lastSeq).toBe(9)
    expect(fresh).toEqual([])
    expect(store.unreadCount).toBe(2)
  })

  it('toasts a missed notification found by the refetch exactly once, even if its replay follows', async () => {
    const store = setup({ lastSeq: 1, list: { items: [row(2), row(1)], unread_count: 1, last_seq: 2 } })
    await store.reconcile()
    expect(store.receive({ ...update(2), replayed: true })).toBe('duplicate')
    expect(fresh).toEqual([2])
    expect(store.unreadCount).toBe(1)
  })

  it('starts over when the server is behind what we saw (its database was reset)', async () => {
    const store = setup({ lastSeq: 40, list: { items: [row(2), row(1)], unread_count: 2, last_seq: 2 } })
    await store.reconcile()
    expect(store.lastSeq).toBe(2)
    expect(store.items.map((n) => n.seq)).toEqual([2, 1])
    expect(fresh).toEqual([])
    expect(store.receive(update(3))).toBe('accepted')
    expect(store.unreadCount).toBe(3)
  })

  it('marks one and all as read', async () => {
    const store = setup()
    store.receive(update(1))
    store.receive(update(2))
    await store.markRead(101)
    expect(store.unreadCount).toBe(1)
    expect(net.callsTo('POST /api/notifications/101/read')).toHaveLength(1)
    await store.markRead(101)
    expect(net.callsTo('POST /api/notifications/101/read')).toHaveLength(1)
    await store.markAllRead()
    expect(store.unreadCount).toBe(0)
    expect(store.unread).toHaveLength(0)
  })
})
