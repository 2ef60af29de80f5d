import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { api } from '@/services/api'
import { requestSync } from '@/services/socket'
import { readJson, writeJson } from '@/utils/storage'
import { useAuthStore } from './auth'

const PAGE = 50

/** A live `approval_update` payload as a notification row, as the HTTP list shows it. */
function toRow(payload) {
  const { replayed: _replayed, ...rest } = payload
  return {
    id: payload.notification_id,
    seq: payload.seq,
    type: 'approval_update',
    payload: rest,
    created_at: payload.at,
    read_at: null,
  }
}

/**
 * The user's inbox of durable notifications, kept exactly-once on screen:
 * - `lastSeq` is the highest seq applied with no gap before it (persisted per user);
 * - a live event whose id is known, or whose seq is not above `lastSeq`, is a duplicate;
 * - an event past a gap waits in `pending` while the socket's `sync` fetches the gap;
 * - the unread count is the server's, plus the live events the server had not counted yet.
 */
export const useNotificationsStore = defineStore('notifications', () => {
  const auth = useAuthStore()
  const items = ref([]) // newest first
  const unreadCount = ref(0)
  const lastSeq = ref(null)
  const limit = ref(PAGE)
  const loading = ref(false)
  const hasMore = ref(false)

  const known = new Set()
  const pending = new Map()
  const freshHandlers = new Set()
  let syncing = null
  let reconciling = Promise.resolve()

  const unread = computed(() => items.value.filter((n) => !n.read_at))

  const storageKey = () => (auth.user ? `assetflow.lastSeq.${auth.user.id}` : null)

  function setLastSeq(seq) {
    lastSeq.value = seq
    const key = storageKey()
    if (key) writeJson(key, seq)
  }

  /** Forget everything (logout, or another user logged in). */
  function reset() {
    forgetRows()
    unreadCount.value = 0
    limit.value = PAGE
    hasMore.value = false
    const key = storageKey()
    lastSeq.value = key ? readJson(key, null) : null
  }

  /** Subscribe to notifications that are new to this client (for toasts). */
  function onFresh(handler) {
    freshHandlers.add(handler)
    return () => freshHandlers.delete(handler)
  }

  function announce(payloads) {
    if (!payloads.length) return
    for (const handler of freshHandlers) handler(payloads)
  }

  function addRow(row) {
    known.add(row.id)
    const list = items.value
    const at = list.findIndex((n) => n.seq < row.seq)
    if (at === -1) list.push(row)
    else list.splice(at, 0, row)
  }

  function accept(payload) {
    addRow(toRow(payload))
    setLastSeq(payload.seq)
    unreadCount.value += 1
    announce([payload])
  }

  function drainPending() {
    for (const seq of [...pending.keys()]) if (seq <= lastSeq.value) pending.delete(seq)
    while (pending.has(lastSeq.value + 1)) {
      const payload = pending.get(lastSeq.value + 1)
      pending.delete(payload.seq)
      if (known.has(payload.notification_id)) setLastSeq(payload.seq)
      else accept(payload)
    }
  }

  /**
   * Take one live `approval_update`. Returns 'accepted', 'duplicate' or 'gap'
   * (held back until the missing seqs arrive).
   */
  function receive(payload) {
    if (known.has(payload.notification_id)) return 'duplicate'
    if (lastSeq.value !== null && payload.seq <= lastSeq.value) return 'duplicate'
    if (lastSeq.value === null || payload.seq === lastSeq.value + 1) {
      accept(payload)
      drainPending()
      return 'accepted'
    }
    pending.set(payload.seq, payload)
    fillGap()
    return 'gap'
  }

  /** Ask the server for what we missed; fall back to a full refetch if that fails. */
  function fillGap() {
    if (syncing) return syncing
    syncing = (async () => {
      try {
        const missed = await requestSync(lastSeq.value)
        for (const payload of [...missed].sort((a, b) => a.seq - b.seq)) receive(payload)
        drainPending()
        if (pending.size) await reconcile()
      } catch {
        await reconcile()
      }
    })().finally(() => {
      syncing = null
    })
    return syncing
  }

  function forgetRows() {
    items.value = []
    known.clear()
    pending.clear()
  }

  async function doReconcile() {
    loading.value = true
    try {
      const sentSeq = lastSeq.value
      const data = await api.get('/api/notifications', { limit: limit.value })
      // seq only grows: a server behind what we had seen was reset (a new database). Start over.
      const serverReset = sentSeq !== null && data.last_seq < sentSeq
      if (serverReset) forgetRows()
      const firstTime = sentSeq === null || serverReset
      const before = serverReset ? data.last_seq : (lastSeq.value ?? 0)
      const fresh = []
      const rows = [...data.items, ...[...pending.values()].map(toRow)].sort((a, b) => a.seq - b.seq)
      for (const row of rows) {
        const mine = items.value.find((n) => n.id === row.id)
        if (mine) {
          // The server is the truth about read state (another tab may have read it).
          if (row.read_at) mine.read_at = row.read_at
          continue
        }
        addRow(row)
        if (!firstTime && row.seq > before) fresh.push(row.payload)
      }
      const pendingMax = Math.max(0, ...pending.keys())
      pending.clear()
      const uncounted = items.value.filter((n) => n.seq > data.last_seq && !n.read_at).length
      unreadCount.value = data.unread_count + uncounted
      hasMore.value = data.items.length >= limit.value
      setLastSeq(Math.max(before, data.last_seq, pendingMax))
      announce(fresh)
    } finally {
      loading.value = false
    }
  }

  /** Refetch the list and the unread count over HTTP (on (re)connect, after resync_required). */
  function reconcile() {
    // Serialised: two overlapping snapshots could otherwise apply out of order.
    reconciling = reconciling.catch(() => {}).then(doReconcile)
    return reconciling
  }

  function loadMore() {
    limit.value = Math.min(500, limit.value + PAGE)
    return reconcile()
  }

  async function markRead(id) {
    const row = items.value.find((n) => n.id === id)
    if (row?.read_at) return
    const updated = await api.post(`/api/notifications/${id}/read`)
    if (row && !row.read_at) {
      row.read_at = updated?.read_at || new Date().toISOString()
      unreadCount.value = Math.max(0, unreadCount.value - 1)
    }
  }

  async function markAllRead() {
    await api.post('/api/notifications/read-all')
    const now = new Date().toISOString()
    for (const row of items.value) if (!row.read_at) row.read_at = now
    unreadCount.value = 0
  }

  // Each user has their own seq counter: switch it with the session.
  watch(
    () => auth.user?.id,
    () => reset(),
    { immediate: true },
  )

  return {
    items,
    unread,
    unreadCount,
    lastSeq,
    loading,
    hasMore,
    reset,
    onFresh,
    receive,
    reconcile,
    fillGap,
    loadMore,
    markRead,
    markAllRead,
  }
})
