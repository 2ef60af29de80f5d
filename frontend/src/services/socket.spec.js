import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createFakeIo } from '@/testing/fakeSocket'
import { ALICE, BOB, installFakeFetch, makeToken, row, seedSession, update } from '@/testing/fakeFetch'

// The network boundary: socket.io-client's io() is replaced, everything else is real.
const fake = vi.hoisted(() => ({ current: null }))
vi.mock('socket.io-client', () => ({ io: (...args) => fake.current.io(...args) }))

const { startSocket, stopSocket, BACKOFF, CATCH_UP_MS, GOING_AWAY_MAX_MS } = await import('./socket')
const { useConnectionStore } = await import('@/stores/connection')
const { useNotificationsStore } = await import('@/stores/notifications')
const { useDashboardStore } = await import('@/stores/dashboard')
const { useRequestsStore } = await import('@/stores/requests')

let net

function setup({ user = ALICE, lastSeq = 3, token = makeToken(900) } = {}) {
  localStorage.clear()
  seedSession(user, token, 'refresh-tok')
  if (lastSeq !== null) localStorage.setItem(`assetflow.lastSeq.${user.id}`, JSON.stringify(lastSeq))
  setActivePinia(createPinia())
  fake.current = createFakeIo()
  net = installFakeFetch({
    'GET /api/notifications': () => [200, { items: [row(3)], unread_count: 1, last_seq: 3 }],
    'POST /api/auth/refresh': () => [200, { access_token: makeToken(900, { fresh: true }) }],
    'GET /api/requests': () => [200, { items: [], page: 1, per_page: 100, total: 0 }],
    'GET /api/requests/stats': () => [200, { counts: {}, median_decision_seconds: null }],
  })
  const socket = startSocket()
  return socket
}

const flush = () => new Promise((r) => setTimeout(r, 0))

afterEach(() => {
  stopSocket()
  vi.useRealTimers()
})

describe('socket module', () => {
  beforeEach(() => vi.spyOn(Math, 'random').mockReturnValue(0.5))

  it('connects with capped, jittered backoff, the token and last_seq', async () => {
    const socket = setup()
    await flush()
    expect(socket.options).toMatchObject({ path: '/socket.io', autoConnect: false, ...BACKOFF })
    expect(BACKOFF.reconnectionDelayMax).toBeGreaterThan(BACKOFF.reconnectionDelay)
    expect(BACKOFF.randomizationFactor).toBeGreaterThan(0)
    expect(typeof socket.options.auth).toBe('function')
    expect(socket.connect).toHaveBeenCalled()
    expect(socket.lastAuth).toEqual({ token: expect.any(String), last_seq: 3 })
    expect(useConnectionStore().status).toBe('reconnecting')
    socket.serverAccept()
    expect(useConnectionStore().status).toBe('live')
  })

  it('on a first visit learns the seq over HTTP before connecting', async () => {
    const socket = setup({ lastSeq: null })
    expect(socket.connect).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(socket.connect).toHaveBeenCalled())
    expect(socket.lastAuth.last_seq).toBe(3)
  })

  it('refreshes a nearly expired token before a (re)connection attempt', async () => {
    const socket = setup({ token: makeToken(10) })
    await vi.waitFor(() => expect(socket.lastAuth).not.toBeNull())
    expect(net.callsTo('POST /api/auth/refresh')).toHaveLength(1)
    const { accessToken } = JSON.parse(localStorage.getItem('assetflow.session'))
    expect(socket.lastAuth.token).toBe(accessToken)
  })

  it('recomputes the unread count from the server on every (re)connect', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    await vi.waitFor(() => expect(net.callsTo('GET /api/notifications')).toHaveLength(1))
    const notifications = useNotificationsStore()
    await vi.waitFor(() => expect(notifications.unreadCount).toBe(1))
    socket.serverDrop('transport close')
    expect(useConnectionStore().status).toBe('reconnecting')
    socket.managerEmit('reconnect_attempt', 2)
    expect(useConnectionStore().attempt).toBe(2)
    socket.serverAccept()
    await vi.waitFor(() => expect(net.callsTo('GET /api/notifications')).toHaveLength(2))
  })

  it('after going_away reconnects within the window the server names, then backs off as usual', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    socket.serverEmit('going_away', { reconnect_within_ms: 1000 })
    // socket.io-client's first delay is reconnectionDelay ± randomizationFactor: uniform over [0, 1000 ms].
    expect(socket.io.backoff).toEqual({ reconnectionDelay: 500, randomizationFactor: 1 })
    socket.serverDrop('transport close') // the close that follows: socket.io-client reconnects itself
    expect(useConnectionStore().status).toBe('reconnecting')
    expect(socket.connect).toHaveBeenCalledTimes(1) // no manual retry on top of the client's own
    socket.serverAccept()
    expect(socket.io.backoff).toEqual({
      reconnectionDelay: BACKOFF.reconnectionDelay,
      randomizationFactor: BACKOFF.randomizationFactor,
    })
    expect(useConnectionStore().status).toBe('live')
  })

  it('caps the going_away window and ignores a malformed one', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    socket.serverEmit('going_away', { reconnect_within_ms: 10 ** 9 })
    expect(socket.io.backoff.reconnectionDelay).toBe(GOING_AWAY_MAX_MS / 2)
    socket.serverEmit('going_away', { reconnect_within_ms: 'soon' })
    expect(socket.io.backoff.reconnectionDelay).toBe(0)
  })

  it('feeds approval_update to the notifications and requests stores, once', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    const requests = useRequestsStore()
    requests.mine.items = [{ id: 7, state: 'pending', step: 1, updated_at: '2026-11-27T08:00:00Z' }]
    socket.serverEmit('approval_update', update(4))
    socket.serverEmit('approval_update', { ...update(4), replayed: true })
    const notifications = useNotificationsStore()
    await vi.waitFor(() => expect(notifications.items.filter((n) => n.seq === 4)).toHaveLength(1))
    expect(requests.mine.items[0].state).toBe('approved')
  })

  it('repairs a seq gap with the sync ack', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    await flush()
    const notifications = useNotificationsStore()
    socket.serverEmit('approval_update', update(6))
    const sync = socket.emitted.find((e) => e.event === 'sync')
    expect(sync.data).toEqual({ after_seq: 3 })
    sync.cb(null, { items: [update(4), update(5), update(6)] })
    await vi.waitFor(() => expect(notifications.lastSeq).toBe(6))
    expect(notifications.items.map((n) => n.seq).slice(0, 3)).toEqual([6, 5, 4])
  })

  it('refetches the list over HTTP after resync_required', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    await vi.waitFor(() => expect(net.callsTo('GET /api/notifications')).toHaveLength(1))
    net.route('GET /api/notifications', () => [200, { items: [row(900)], unread_count: 42, last_seq: 900 }])
    socket.serverEmit('resync_required', { last_seq: 900 })
    const notifications = useNotificationsStore()
    await vi.waitFor(() => expect(notifications.unreadCount).toBe(42))
    expect(notifications.lastSeq).toBe(900)
  })

  it('after an unauthorized refusal refreshes the token and tries again', async () => {
    vi.useFakeTimers()
    const socket = setup()
    await vi.advanceTimersByTimeAsync(0)
    expect(socket.connect).toHaveBeenCalledTimes(1)
    socket.serverRefuse('unauthorized')
    await vi.advanceTimersByTimeAsync(0)
    expect(net.callsTo('POST /api/auth/refresh')).toHaveLength(1)
    expect(useConnectionStore().status).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(BACKOFF.reconnectionDelay * 2)
    expect(socket.connect).toHaveBeenCalledTimes(2)
  })

  it('comes back when a busy server says, without counting it as a failed try', async () => {
    vi.useFakeTimers()
    const socket = setup()
    await vi.advanceTimersByTimeAsync(0)
    const busy = { error: { code: 'unavailable', message: 'busy', details: { retry_after_ms: 4000 } } }
    // More paced refusals than the manual retries allowed: a server that says when is not a failure.
    for (let i = 1; i <= 7; i += 1) {
      socket.serverRefuse('unavailable', busy)
      await vi.advanceTimersByTimeAsync(3999) // Math.random() is 0.5: exactly the hint
      expect(socket.connect).toHaveBeenCalledTimes(i)
      await vi.advanceTimersByTimeAsync(1)
      expect(socket.connect).toHaveBeenCalledTimes(i + 1)
      expect(useConnectionStore().status).toBe('reconnecting')
    }
    expect(net.callsTo('POST /api/auth/refresh')).toHaveLength(0)
    socket.serverAccept()
    expect(useConnectionStore().status).toBe('live')
  })

  it('gives up and ends the session when the refresh token is refused too', async () => {
    const socket = setup()
    await flush()
    net.route('POST /api/auth/refresh', () => [401, { error: { code: 'unauthorized', message: 'revoked' } }])
    socket.serverRefuse('unauthorized')
    const { useAuthStore } = await import('@/stores/auth')
    await vi.waitFor(() => expect(useAuthStore().isAuthenticated).toBe(false))
    expect(useAuthStore().endReason).toBe('expired')
    expect(useConnectionStore().status).toBe('offline')
  })

  it('goes offline with the browser and reconnects when it is back', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    window.dispatchEvent(new Event('offline'))
    expect(useConnectionStore().status).toBe('offline')
    expect(socket.disconnect).toHaveBeenCalled()
    window.dispatchEvent(new Event('online'))
    expect(socket.connect).toHaveBeenCalledTimes(2)
    expect(useConnectionStore().status).toBe('reconnecting')
  })

  it('refetches an open dashboard on queue_update, debounced', async () => {
    vi.useFakeTimers()
    const socket = setup({ user: BOB })
    await vi.advanceTimersByTimeAsync(0)
    socket.serverAccept()
    const dashboard = useDashboardStore()
    dashboard.watchQueue()
    await vi.advanceTimersByTimeAsync(0)
    const before = net.callsTo('GET /api/requests').length
    for (let i = 0; i < 5; i += 1)
      socket.serverEmit('queue_update', { request_id: i, state: 'pending', step: 1, action: 'submit' })
    await vi.advanceTimersByTimeAsync(1000)
    const inboxCalls = net.callsTo('GET /api/requests').slice(before)
    expect(inboxCalls).toHaveLength(1)
    expect(inboxCalls[0].query.scope).toBe('inbox')
  })

  it('asks for missed notifications now and then while connected, and when the tab shows again', async () => {
    vi.useFakeTimers()
    const socket = setup()
    await vi.advanceTimersByTimeAsync(0)
    socket.serverAccept()
    await vi.advanceTimersByTimeAsync(0)
    const syncs = () => socket.emitted.filter((e) => e.event === 'sync')
    expect(syncs()).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(CATCH_UP_MS)
    expect(syncs()).toHaveLength(1)
    expect(syncs()[0].data).toEqual({ after_seq: 3 })
    // A push lost while the queue was down comes back through the ack, exactly once.
    syncs()[0].cb(null, { items: [update(4)], last_seq: 4 })
    await vi.advanceTimersByTimeAsync(0)
    expect(useNotificationsStore().lastSeq).toBe(4)
    expect(useNotificationsStore().items.filter((n) => n.seq === 4)).toHaveLength(1)
    document.dispatchEvent(new Event('visibilitychange'))
    await vi.advanceTimersByTimeAsync(0)
    expect(syncs()).toHaveLength(2)
    socket.serverDrop('transport close')
    await vi.advanceTimersByTimeAsync(CATCH_UP_MS)
    expect(syncs()).toHaveLength(2) // not while disconnected
  })

  it('puts a live request_comment in the inbox and the open thread, once per notification_id', async () => {
    const socket = setup()
    await flush()
    socket.serverAccept()
    await flush()
    const requests = useRequestsStore()
    requests.current = { id: 7, state: 'pending', comments: [] }
    const comment = update(4, {
      event: 'request_comment',
      comment_id: 55,
      body: 'Is the 14 inch fine?',
      actor: { id: 3, name: 'Bob Approver' },
    })
    socket.serverEmit('request_comment', comment)
    socket.serverEmit('request_comment', { ...comment, replayed: true })
    const notifications = useNotificationsStore()
    expect(notifications.items.filter((n) => n.id === comment.notification_id)).toHaveLength(1)
    expect(notifications.items[0].type).toBe('request_comment')
    expect(requests.current.comments).toEqual([
      { id: 55, author: { id: 3, display_name: 'Bob Approver' }, body: 'Is the 14 inch fine?', at: comment.at },
    ])
  })

  it('counts an approval_reminder in the same seq stream', async () => {
    const socket = setup({ user: BOB })
    await flush()
    socket.serverAccept()
    await flush()
    socket.serverEmit('approval_reminder', update(4, { event: 'approval_reminder', waiting_since: 'x' }))
    const notifications = useNotificationsStore()
    expect(notifications.lastSeq).toBe(4)
    expect(notifications.items[0].type).toBe('approval_reminder')
  })
})
