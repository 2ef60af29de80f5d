import { defineStore } from 'pinia'
import { computed, reactive, ref, watch } from 'vue'
import { api } from '@/services/api'
import { requestSync } from '@/services/socket'
import { readJson, writeJson } from '@/utils/storage'
import { useAuthStore } from './auth'

// One page of the inbox: what a refetch asks for (the newest) and what "Load older" adds.
const PAGE = 50

/** A live payload (`approval_update`, `approval_reminder`, `request_comment`) as a notification row, as the HTTP list shows it. */
function toRow(payload) {
  const { replayed: _replayed, ...rest } = payload
  return {
    id: payload.notification_id,
    seq: payload.seq,
    type: payload.event || 'approval_update',
    payload: rest,
    created_at: payload.at,
    read_at: null,
  }
}

/**
 * The user's inbox of durable notifications, kept exactly-once on screen:
 * - `lastSeq` is the highest seq applied with no gap before it (persisted per user);
 * - a live event whose id is known, or whose seq is not above `lastSeq`, is a duplicate, unless it is a newer
 *   version of a row shown (a comment folded into an unread one: same id and seq, higher `count`): it replaces it;
 * - an event past a gap waits in `pending` while the socket's `sync` fetches the gap;
 * - the unread count is the server's, plus the live events the server had not counted yet;
 * - the rows on screen are one unbroken run of seqs, from the newest down to the oldest page loaded
 *   ("Load older" pages back with `before_seq`; a refetch only brings the newest page).
 */
export const useNotificationsStore = defineStore('notifications', () => {
  const auth = useAuthStore()
  const items = ref([]) // newest first
  const unreadCount = ref(0)
  const lastSeq = ref(null)
  const loading = ref(false)
  const loaded = ref(false) // the newest page came back at least once since the last reset
  const error = ref(null) // the last refetch failed
  const hasMore = ref(false)

  const known = new Set()
  const pending = new Map()
  const freshHandlers = new Set()
  let syncing = null
  let queue = Promise.resolve()
  let reachedEnd = false // the oldest row loaded is the user's first: nothing older to page back to

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
    hasMore.value = false
    loaded.value = false
    error.value = null
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
    return list[at === -1 ? list.length - 1 : at]
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

  /** Whether `payload` is a newer version of the row on screen with its id (more comments folded into it). */
  const isNewer = (payload, row) => (payload.count ?? 1) > (row?.payload.count ?? 1)

  /** Show the newer version of a row in place: same id, seq and unread state; no toast, no change in the count. */
  function refresh(row, payload) {
    const { payload: next, created_at: at } = toRow(payload)
    row.payload = next
    row.created_at = at
  }

  /**
   * Take one live notification (any type: they share the user's seq stream). Returns 'accepted', 'updated' (a newer
   * version of a row shown), 'duplicate' or 'gap' (held back until the missing seqs arrive).
   */
  function receive(payload) {
    if (known.has(payload.notification_id)) {
      const row = items.value.find((n) => n.id === payload.notification_id)
      if (!row || !isNewer(payload, row)) return 'duplicate'
      refresh(row, payload)
      return 'updated'
    }
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
    reachedEnd = false
  }

  /** Drop the rows older than `seq` (they would sit below a hole in the list). */
  function forgetOlderThan(seq) {
    const keep = []
    for (const row of items.value) {
      if (row.seq < seq) known.delete(row.id)
      else keep.push(row)
    }
    items.value = keep
  }

  /** Add the server's rows that are new here; for the ones already shown its read state wins. */
  function mergeServerRows(rows, onNew = () => {}) {
    const byId = new Map(items.value.map((n) => [n.id, n]))
    for (const row of rows) {
      const mine = byId.get(row.id)
      if (mine) {
        // The server is the truth about read state (another tab may have read it) and about what a row says now.
        if (row.read_at) mine.read_at = row.read_at
        if (isNewer(row.payload, mine)) Object.assign(mine, { payload: row.payload, created_at: row.created_at })
        continue
      }
      byId.set(row.id, addRow(row))
      onNew(row)
    }
  }

  const oldestSeq = () => items.value.reduce((min, n) => Math.min(min, n.seq), Infinity)

  /** Whether a page (newest first) reaches the user's first notification. */
  const isLastPage = (rows) => rows.length < PAGE || rows.some((n) => n.seq <= 1)

  async function doReconcile() {
    loading.value = true
    error.value = null
    try {
      const sentSeq = lastSeq.value
      const data = await api.get('/api/notifications', { limit: PAGE })
      // seq only grows: a server behind what we had seen was reset (a new database). Start over.
      const serverReset = sentSeq !== null && data.last_seq < sentSeq
      if (serverReset) forgetRows()
      const firstTime = sentSeq === null || serverReset
      const before = serverReset ? data.last_seq : (lastSeq.value ?? 0)
      if (isLastPage(data.items)) {
        reachedEnd = true
      } else {
        // Only the newest page came back. Older rows loaded before stay, unless seqs are missing
        // between them and this page (e.g. after resync_required): then they go, so the list has
        // no hole, and "Load older" pages back from this page.
        const pageOldest = Math.min(...data.items.map((n) => n.seq))
        const below = items.value.filter((n) => n.seq < pageOldest)
        if (!below.length || Math.max(...below.map((n) => n.seq)) < pageOldest - 1) {
          forgetOlderThan(pageOldest)
          reachedEnd = false
        }
      }
      const fresh = []
      const rows = [...data.items, ...[...pending.values()].map(toRow)].sort((a, b) => a.seq - b.seq)
      mergeServerRows(rows, (row) => {
        if (!firstTime && row.seq > before) fresh.push(row.payload)
      })
      const pendingMax = Math.max(0, ...pending.keys())
      pending.clear()
      const uncounted = items.value.filter((n) => n.seq > data.last_seq && !n.read_at).length
      unreadCount.value = data.unread_count + uncounted
      hasMore.value = !reachedEnd
      setLastSeq(Math.max(before, data.last_seq, pendingMax))
      loaded.value = true
      announce(fresh)
    } catch (err) {
      error.value = err
      throw err
    } finally {
      loading.value = false
    }
  }

  async function doLoadMore() {
    if (!items.value.length) return doReconcile()
    if (reachedEnd) return
    loading.value = true
    try {
      const sentSeq = lastSeq.value
      const data = await api.get('/api/notifications', { before_seq: oldestSeq(), limit: PAGE })
      // A server behind what we had seen was reset: its old rows are not ours. Start over.
      if (sentSeq !== null && data.last_seq < sentSeq) return await doReconcile()
      // Older rows only: never fresh (no toast), already counted by the server, below lastSeq.
      mergeServerRows(data.items)
      reachedEnd = isLastPage(data.items)
      hasMore.value = !reachedEnd
    } finally {
      loading.value = false
    }
  }

  // Refetches and pages run one at a time: overlapping snapshots could otherwise apply out of
  // order, and a page must start below the rows on screen when it is sent.
  function enqueue(task) {
    queue = queue.catch(() => {}).then(task)
    return queue
  }

  /** Refetch the newest page and the unread count over HTTP (on (re)connect, after resync_required). */
  function reconcile() {
    return enqueue(doReconcile)
  }

  /** Page back: the next PAGE rows older than the oldest one shown. */
  function loadMore() {
    return enqueue(doLoadMore)
  }

  async function markRead(id) {
    const row = items.value.find((n) => n.id === id)
    if (row?.read_at) return
    const updated = await api.post(`/api/notifications/${id}/read`)
    for (const hit of found.items) if (hit.id === id) hit.read_at = updated?.read_at || new Date().toISOString()
    if (row && !row.read_at) {
      row.read_at = updated?.read_at || new Date().toISOString()
      unreadCount.value = Math.max(0, unreadCount.value - 1)
    }
  }

  // A searched or filtered page of the inbox (the server's page mode), beside the live list.
  const found = reactive({ items: [], total: 0 })

  /** One page matching `query` (q, status, unread, page, per_page): what the notifications screen shows while filtering. */
  async function search(query) {
    const data = await api.get('/api/notifications', query)
    found.items = data.items
    found.total = data.total
    unreadCount.value = data.unread_count
  }

  /**
   * What another tab (or this one) read, as the server pushes it (`notifications_read`): those rows (`ids`, or every
   * row up to `last_seq`) are read; the unread count is the server's plus what arrived here after `last_seq`.
   */
  function applyRead({ ids, unread_count: count, last_seq: upTo }) {
    const read = ids ? new Set(ids) : null
    const now = new Date().toISOString()
    for (const row of [...items.value, ...found.items]) {
      if (!row.read_at && (read ? read.has(row.id) : row.seq <= upTo)) row.read_at = now
    }
    unreadCount.value = count + items.value.filter((n) => n.seq > upTo && !n.read_at).length
  }

  /** Opening a request reads its notifications (every tab hears of it); nothing to ask once nothing is unread. */
  async function readRequest(requestId) {
    if (loaded.value && !unreadCount.value) return
    const data = await api.post(`/api/notifications/read-all?request_id=${encodeURIComponent(requestId)}`)
    if (!data?.updated) return
    const now = new Date().toISOString()
    for (const row of [...items.value, ...found.items]) {
      if (!row.read_at && row.payload?.request_id === requestId) row.read_at = now
    }
    unreadCount.value = data.count // the push that follows says the same, to this tab and the others
  }

  async function markAllRead() {
    await api.post('/api/notifications/read-all')
    const now = new Date().toISOString()
    for (const row of [...items.value, ...found.items]) if (!row.read_at) row.read_at = now
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
    loaded,
    error,
    hasMore,
    reset,
    onFresh,
    receive,
    reconcile,
    fillGap,
    loadMore,
    markRead,
    markAllRead,
    applyRead,
    readRequest,
    found,
    search,
  }
})
