// The one Socket.IO connection. It authenticates every (re)connection with a
// fresh token and the last seq seen, and turns server events into store calls.
import { io } from 'socket.io-client'
import { useAuthStore } from '@/stores/auth'
import { useConnectionStore } from '@/stores/connection'
import { useDashboardStore } from '@/stores/dashboard'
import { useNotificationsStore } from '@/stores/notifications'
import { useReportsStore } from '@/stores/reports'
import { useRequestsStore } from '@/stores/requests'
import { BACKOFF, GOING_AWAY_MAX_MS, goingAwayBackoff, jitteredDelay, pacedDelay } from './reconnect'

const SYNC_TIMEOUT_MS = 5000
// docs/realtime.md, recovery rule 5: a push lost while the message queue was down leaves no gap
// until the next push, so a connected tab asks for what it missed now and then, and on showing.
export const CATCH_UP_MS = 45000
// After a refusal socket.io-client stops retrying; we retry a few times ourselves (a busy server's
// paced refusals do not count: it said when to come back).
const MAX_MANUAL_RETRIES = 5
export { BACKOFF, GOING_AWAY_MAX_MS }

let socket = null
let manualRetries = 0
let movingAway = false
let retryTimer = null
let detachWindow = () => {}

function serverUrl() {
  return import.meta.env.VITE_SOCKET_URL || window.location.origin
}

function transports() {
  // WebSocket only by default: it needs no sticky sessions when scaled out.
  const raw = import.meta.env.VITE_SOCKET_TRANSPORTS || 'websocket'
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
}

function scheduleManualConnect(delay = null) {
  const auth = useAuthStore()
  clearTimeout(retryTimer)
  if (!socket || !auth.isAuthenticated || (delay === null && manualRetries >= MAX_MANUAL_RETRIES)) {
    useConnectionStore().markOffline()
    return
  }
  useConnectionStore().markReconnecting(manualRetries + 1)
  retryTimer = setTimeout(() => socket?.connect(), delay ?? jitteredDelay(manualRetries))
  if (delay === null) manualRetries += 1
}

async function onConnectError(err) {
  const connection = useConnectionStore()
  const paced = pacedDelay(err)
  if (paced !== null) {
    // A process admitting a burst of reconnects a few at a time: come back when it said.
    scheduleManualConnect(paced)
    return
  }
  if (err?.message === 'unauthorized') {
    // Refused by the server: the token may have expired while we were away.
    const auth = useAuthStore()
    await auth.refresh()
    // A dead refresh token has ended the session by now; a network blip has not: retry.
    if (auth.isAuthenticated) scheduleManualConnect()
    else connection.markOffline()
    return
  }
  // Transport errors: socket.io-client keeps retrying on its own backoff.
  if (socket?.active) connection.markReconnecting()
  else scheduleManualConnect()
}

function onDisconnect(reason) {
  const connection = useConnectionStore()
  if (reason === 'io client disconnect') return connection.markOffline()
  // The server closed us on purpose (e.g. token revoked); retry by hand, auth decides.
  if (reason === 'io server disconnect') return scheduleManualConnect()
  connection.markReconnecting()
}

/**
 * The server process is stopping (a restart, a deploy): socket.io-client reconnects by itself after
 * the close that follows, so only its first delay changes — uniform over [0, window] (the backoff's
 * delay ± 100 %), which spreads a whole process's tabs over the window the server chose for them.
 */
function onGoingAway(payload) {
  const { reconnectionDelay, randomizationFactor } = goingAwayBackoff(payload)
  movingAway = true
  socket.io.reconnectionDelay(reconnectionDelay)
  socket.io.randomizationFactor(randomizationFactor)
}

function onConnect() {
  manualRetries = 0
  if (movingAway) {
    movingAway = false
    socket.io.reconnectionDelay(BACKOFF.reconnectionDelay)
    socket.io.randomizationFactor(BACKOFF.randomizationFactor)
  }
  clearTimeout(retryTimer)
  useConnectionStore().markLive()
  // Anything may have happened while we were away: recompute from the server.
  useNotificationsStore()
    .reconcile()
    .catch(() => {})
  useDashboardStore().onReconnect()
  useRequestsStore().onReconnect()
}

function attachWindow() {
  const offline = () => {
    useConnectionStore().setBrowserOnline(false)
    // Close now rather than wait for a ping timeout: the indicator must not lie.
    socket?.disconnect()
  }
  const online = () => {
    useConnectionStore().setBrowserOnline(true)
    manualRetries = 0
    if (socket && !socket.connected) {
      useConnectionStore().markReconnecting()
      socket.connect()
    }
  }
  const catchUp = () => {
    const notifications = useNotificationsStore()
    if (socket?.connected && notifications.lastSeq !== null) notifications.fillGap()
  }
  const shown = () => {
    if (document.visibilityState === 'visible') catchUp()
  }
  const timer = setInterval(catchUp, CATCH_UP_MS)
  window.addEventListener('offline', offline)
  window.addEventListener('online', online)
  document.addEventListener('visibilitychange', shown)
  return () => {
    clearInterval(timer)
    window.removeEventListener('offline', offline)
    window.removeEventListener('online', online)
    document.removeEventListener('visibilitychange', shown)
  }
}

/** Open the socket for the logged-in user (idempotent). */
export function startSocket() {
  if (socket) return socket
  const auth = useAuthStore()
  const notifications = useNotificationsStore()
  socket = io(serverUrl(), {
    path: '/socket.io',
    transports: transports(),
    autoConnect: false,
    ...BACKOFF,
    // A function, so each attempt carries the current token and last seq.
    auth: (cb) => {
      auth
        .ensureFreshToken()
        .catch(() => auth.accessToken)
        .then((token) => cb({ token, last_seq: notifications.lastSeq ?? 0 }))
    },
  })
  socket.on('connect', onConnect)
  socket.on('disconnect', onDisconnect)
  socket.on('connect_error', onConnectError)
  socket.on('going_away', onGoingAway)
  socket.io.on('reconnect_attempt', (n) => useConnectionStore().markReconnecting(n))
  socket.on('approval_update', (payload) => {
    notifications.receive(payload)
    useRequestsStore().applyUpdate(payload)
    useReportsStore().onDecision()
  })
  socket.on('approval_reminder', (payload) => notifications.receive(payload))
  // Deduplicated like approval_update (a replay after a reconnect brings the same notification_id).
  socket.on('request_comment', (payload) => {
    if (notifications.receive(payload) !== 'duplicate') useRequestsStore().applyComment(payload)
  })
  socket.on('queue_update', (payload) => {
    useDashboardStore().onQueueUpdate(payload)
    useReportsStore().onDecision() // refetches (debounced) only while the reports page is open
  })
  socket.on('request_changed', (payload) => {
    useRequestsStore().applyOwnChange(payload)
    useReportsStore().onDecision()
  })
  socket.on('notifications_read', (payload) => notifications.applyRead(payload))
  socket.on('resync_required', () => notifications.reconcile().catch(() => {}))
  detachWindow = attachWindow()
  useConnectionStore().markConnecting()
  if (navigator.onLine === false) {
    useConnectionStore().setBrowserOnline(false)
    return socket
  }
  // First visit on this browser: learn the current seq over HTTP before connecting,
  // so the server does not replay the user's whole history as fresh toasts.
  const ready = notifications.lastSeq === null ? notifications.reconcile().catch(() => {}) : null
  Promise.resolve(ready).then(() => socket?.connect())
  return socket
}

/** Close the socket (logout). */
export function stopSocket() {
  clearTimeout(retryTimer)
  detachWindow()
  detachWindow = () => {}
  if (socket) {
    socket.removeAllListeners()
    socket.io.removeAllListeners()
    socket.disconnect()
    socket = null
  }
  manualRetries = 0
  movingAway = false
  useConnectionStore().markOffline()
}

/** Ask the server for the notifications after `afterSeq` (repairs a seq gap). */
export function requestSync(afterSeq) {
  if (!socket?.connected) return Promise.reject(new Error('not connected'))
  return new Promise((resolve, reject) => {
    socket.timeout(SYNC_TIMEOUT_MS).emit('sync', { after_seq: afterSeq }, (err, reply) => {
      if (err) reject(err)
      else resolve(Array.isArray(reply?.items) ? reply.items : [])
    })
  })
}
