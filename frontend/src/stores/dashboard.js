import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, ApiError } from '@/services/api'

const REFRESH_DEBOUNCE_MS = 250

/** The approver's live queue and the decision statistics. */
export const useDashboardStore = defineStore('dashboard', () => {
  const inbox = ref([])
  const inboxTotal = ref(0)
  // The list state from the dashboard's URL (useListQuery); live refetches reuse it.
  const inboxQuery = ref({ sort: '-age', page: 1, per_page: 20 })
  const stats = ref(null)
  const loading = ref(false)
  const error = ref(null)
  // The queue came back at least once: before that an empty list means "not known yet".
  const loaded = ref(false)
  let watchers = 0
  let timer = null

  async function fetchInbox() {
    const data = await api.get('/api/requests', { ...inboxQuery.value, scope: 'inbox' })
    inbox.value = data.items
    inboxTotal.value = data.total
  }

  /** Show this page of the inbox (search, filters, sort) and keep it live. */
  function showInbox(query) {
    inboxQuery.value = query
    return refresh()
  }

  async function fetchStats() {
    stats.value = await api.get('/api/requests/stats')
  }

  async function refresh() {
    clearTimeout(timer)
    loading.value = true
    error.value = null
    try {
      await Promise.all([fetchInbox(), fetchStats()])
      loaded.value = true
    } catch (err) {
      error.value = err
    } finally {
      loading.value = false
    }
  }

  /** Coalesce bursts of queue events (a bulk approval) into one refetch. */
  function refreshSoon() {
    clearTimeout(timer)
    timer = setTimeout(refresh, REFRESH_DEBOUNCE_MS)
  }

  /** A dashboard view is on screen: keep the queue live while it is. */
  function watchQueue() {
    watchers += 1
    if (watchers === 1) refresh()
  }
  function unwatchQueue() {
    watchers = Math.max(0, watchers - 1)
    if (!watchers) clearTimeout(timer)
  }

  function onQueueUpdate() {
    if (watchers) refreshSoon()
  }
  function onReconnect() {
    if (watchers) refreshSoon()
  }

  function drop(id) {
    inbox.value = inbox.value.filter((r) => r.id !== id)
  }

  /**
   * Approve or reject one request. A 409 means someone else decided first: the
   * row goes away and the error carries `decidedBy` for an "already decided" message.
   */
  async function decide(id, action, comment, version) {
    const row = inbox.value.find((r) => r.id === id)
    // The version the decider is looking at (the request page's, else the queue row's): a 409 if it changed.
    const body = { comment: comment || undefined, version: version ?? row?.version }
    try {
      const updated = await api.post(`/api/requests/${id}/${action}`, body)
      drop(id)
      fetchStats().catch(() => {})
      return updated
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        err.decidedBy = err.details?.decided_by?.display_name || null
        refreshSoon()
      }
      throw err
    }
  }

  const approve = (id, comment, version) => decide(id, 'approve', comment, version)
  const reject = (id, comment, version) => decide(id, 'reject', comment, version)
  /** Return the request to its applicant for changes; the comment says what to change. */
  const sendBack = (id, comment, version) => decide(id, 'return', comment, version)

  /** Approve many; each id succeeds or fails on its own. Returns the per-id results. */
  async function bulkApprove(ids, comment) {
    const data = await api.post('/api/requests/bulk-approve', { ids, comment: comment || undefined })
    for (const result of data.results) if (result.ok) drop(result.id)
    refreshSoon()
    return data.results
  }

  /** Approve every inbox request matching the list's filters, across pages (the server bounds it). */
  async function bulkApproveMatching(comment) {
    const { q, kind, sort, page, per_page, ...rest } = inboxQuery.value
    const filter = Object.fromEntries(Object.entries({ q, kind, ...rest }).filter(([, v]) => v !== '' && v != null))
    // The URL keeps ids as text; a JSON body takes them as numbers.
    if (filter.department_id) filter.department_id = Number(filter.department_id)
    const data = await api.post('/api/requests/bulk-approve', { filter, comment: comment || undefined })
    refreshSoon()
    return data.results
  }

  function reset() {
    inbox.value = []
    inboxTotal.value = 0
    stats.value = null
    loaded.value = false
    error.value = null
    clearTimeout(timer)
  }

  return {
    inbox,
    inboxTotal,
    inboxQuery,
    showInbox,
    bulkApproveMatching,
    stats,
    loading,
    error,
    loaded,
    refresh,
    watchQueue,
    unwatchQueue,
    onQueueUpdate,
    onReconnect,
    approve,
    reject,
    sendBack,
    bulkApprove,
    reset,
  }
})
