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

  it('replaces a row with its newer version (comments folded into it) without a toast or a new unread', () => {
    const store = setup()
    const first = update(1, { event: 'request_comment', body: 'ping 0', count: 1 })
    store.receive(first)
    expect(store.receive({ ...first, body: 'ping 2', count: 3 })).toBe('updated')
    expect(store.receive({ ...first, body: 'ping 1', count: 2 })).toBe('duplicate') // older than what is shown
    expect(store.items.map((n) => [n.seq, n.payload.body, n.payload.count])).toEqual([[1, 'ping 2', 3]])
    expect(store.unreadCount).toBe(1)
    expect(store.lastSeq).toBe(1)
    expect(fresh).toEqual([1])
    expect(store.receive(update(2))).toBe('accepted') // the seq stream goes on with no gap
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

  describe('paging back with before_seq', () => {
    const READ = '2026-11-27T09:30:00Z'
    // A server holding seqs 1..total, newest first, answering limit and before_seq like the backend.
    function inbox(total, { readUpTo = 0 } = {}) {
      const server = { total, read: new Set() }
      for (let seq = 1; seq <= readUpTo; seq++) server.read.add(seq)
      server.route = (call) => {
        const limit = Number(call.query.limit || 50)
        const below = call.query.before_seq ? Number(call.query.before_seq) : server.total + 1
        const items = []
        for (let seq = Math.min(below - 1, server.total); seq >= 1 && items.length < limit; seq--) {
          items.push(row(seq, server.read.has(seq) ? READ : null))
        }
        const unread_count = server.total - [...server.read].filter((seq) => seq <= server.total).length
        return [200, { items, unread_count, last_seq: server.total }]
      }
      return server
    }
    const seqs = (store) => store.items.map((n) => n.seq)
    const range = (from, to) => Array.from({ length: from - to + 1 }, (_, i) => from - i)
    const pages = () => net.callsTo('GET /api/notifications').map((c) => c.query)

    async function pagedStore(server, lastSeq = server.total) {
      const store = setup({ lastSeq })
      net.route('GET /api/notifications', server.route)
      await store.reconcile()
      await store.loadMore()
      return store
    }

    it('appends older rows in seq order, without duplicates, toasts or a change in the count', async () => {
      const server = inbox(120, { readUpTo: 100 })
      const store = setup({ lastSeq: 120 })
      net.route('GET /api/notifications', server.route)
      await store.reconcile()
      expect(seqs(store)).toEqual(range(120, 71))
      expect(store.hasMore).toBe(true)
      expect(store.unreadCount).toBe(20)

      await store.loadMore()
      expect(pages()).toEqual([{ limit: '50' }, { before_seq: '71', limit: '50' }])
      expect(seqs(store)).toEqual(range(120, 21))
      expect(store.hasMore).toBe(true)

      // A page overlapping the rows shown (e.g. a retried request) adds only what is new.
      net.route('GET /api/notifications', (call) =>
        server.route({ ...call, query: { ...call.query, before_seq: '23' } }),
      )
      await store.loadMore()
      expect(seqs(store)).toEqual(range(120, 1))
      expect(new Set(store.items.map((n) => n.id)).size).toBe(120)
      expect(store.unreadCount).toBe(20)
      expect(store.lastSeq).toBe(120)
      expect(fresh).toEqual([])
    })

    it('turns hasMore false when a page comes back short, and then stops asking', async () => {
      const server = inbox(120)
      const store = await pagedStore(server)
      expect(store.hasMore).toBe(true)
      await store.loadMore()
      expect(seqs(store)).toEqual(range(120, 1))
      expect(store.hasMore).toBe(false)
      await store.loadMore()
      expect(pages()).toHaveLength(3)
      // A refetch of the newest page does not bring "Load older" back: nothing is older.
      await store.reconcile()
      expect(store.hasMore).toBe(false)
      expect(seqs(store)).toEqual(range(120, 1))
    })

    it('ends at the first notification even when the last page is full', async () => {
      const store = await pagedStore(inbox(100))
      expect(seqs(store)).toEqual(range(100, 1))
      expect(store.hasMore).toBe(false)
    })

    it('keeps the older rows through a reconcile and does not count unread twice', async () => {
      const server = inbox(120, { readUpTo: 100 })
      const store = await pagedStore(server)
      expect(store.receive(update(121))).toBe('accepted')
      expect(store.unreadCount).toBe(21)
      // Meanwhile another tab read 110.
      server.total = 121
      server.read.add(110)
      await store.reconcile()
      expect(pages().at(-1)).toEqual({ limit: '50' })
      expect(seqs(store)).toEqual(range(121, 21))
      expect(store.unreadCount).toBe(20)
      expect(store.items.find((n) => n.seq === 110).read_at).toBe(READ)
      expect(store.unread).toHaveLength(20)
      expect(store.hasMore).toBe(true)
      expect(fresh).toEqual([121])
      // Paging on still starts below the oldest row shown.
      await store.loadMore()
      expect(pages().at(-1)).toEqual({ before_seq: '21', limit: '50' })
      expect(seqs(store)).toEqual(range(121, 1))
      expect(store.unreadCount).toBe(20)
    })

    it('puts a live event after paging on top, once', async () => {
      const server = inbox(120)
      const store = await pagedStore(server)
      expect(store.receive(update(121))).toBe('accepted')
      expect(store.receive({ ...update(121), replayed: true })).toBe('duplicate')
      expect(store.receive(update(50))).toBe('duplicate')
      expect(seqs(store)).toEqual(range(121, 21))
      expect(store.unreadCount).toBe(121)
      server.total = 121
      await store.reconcile()
      expect(store.items.filter((n) => n.id === 221)).toHaveLength(1)
      expect(seqs(store)).toEqual(range(121, 21))
      expect(store.unreadCount).toBe(121)
      expect(fresh).toEqual([121])
    })

    it('drops the older rows instead of showing a hole when the newest page is far ahead', async () => {
      const server = inbox(120)
      const store = await pagedStore(server)
      // More than 500 missed while away (resync_required): the newest page does not reach our rows.
      server.total = 700
      await store.reconcile()
      expect(seqs(store)).toEqual(range(700, 651))
      expect(store.hasMore).toBe(true)
      expect(store.lastSeq).toBe(700)
      await store.loadMore()
      expect(pages().at(-1)).toEqual({ before_seq: '651', limit: '50' })
      expect(seqs(store)).toEqual(range(700, 601))
      // The replay of a row that had been dropped is still a duplicate (seq <= lastSeq).
      expect(store.receive({ ...update(60), replayed: true })).toBe('duplicate')
    })

    it('runs a page and a refetch one after the other', async () => {
      const server = inbox(120)
      const store = setup({ lastSeq: 120 })
      net.route('GET /api/notifications', server.route)
      await Promise.all([store.reconcile(), store.loadMore(), store.reconcile()])
      expect(pages()).toEqual([{ limit: '50' }, { before_seq: '71', limit: '50' }, { limit: '50' }])
      expect(seqs(store)).toEqual(range(120, 21))
    })
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

  it('applies what another tab read: the rows named, or all up to a seq, and the count after it', () => {
    const store = setup()
    for (const seq of [1, 2, 3, 4]) store.receive(update(seq))
    // The server counted 1 unread at seq 3; seq 4 arrived here after that, so it counts too.
    store.applyRead({ ids: [101, 102], unread_count: 1, last_seq: 3 })
    expect(store.items.filter((n) => n.read_at).map((n) => n.seq)).toEqual([2, 1])
    expect(store.unreadCount).toBe(2)
    store.applyRead({ ids: null, unread_count: 0, last_seq: 3 })
    expect(store.items.filter((n) => !n.read_at).map((n) => n.seq)).toEqual([4])
    expect(store.unreadCount).toBe(1)
  })

  it('reads the notifications of a request when it is opened, and asks nothing once nothing is unread', async () => {
    const store = setup({ list: { items: [row(1), row(2)], unread_count: 2, last_seq: 2 } })
    net.route('POST /api/notifications/read-all', () => [200, { updated: 2, count: 0 }])
    await store.reconcile()
    await store.readRequest(7)
    expect(net.callsTo('POST /api/notifications/read-all')[0].query).toEqual({ request_id: '7' })
    expect(store.items.every((n) => n.read_at)).toBe(true)
    expect(store.unreadCount).toBe(0)
    store.applyRead({ ids: [101, 102], unread_count: 0, last_seq: 2 }) // the push that follows changes nothing
    expect(store.unreadCount).toBe(0)
    await store.readRequest(7)
    expect(net.callsTo('POST /api/notifications/read-all')).toHaveLength(1)
  })
})
