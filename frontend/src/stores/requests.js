import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/services/api'
import { saveFile } from '@/utils/download'

/** The user's own requests, the one on screen, and submitting new ones. */
export const useRequestsStore = defineStore('requests', () => {
  // `query` is the list state from the URL (useListQuery): q, state, kind, sort, page, per_page.
  const mine = reactive({ items: [], total: 0, query: {}, loaded: false })
  const loadingMine = ref(false)
  const errorMine = ref(null)
  const current = ref(null)
  const loadingCurrent = ref(false)

  async function fetchMine(query) {
    if (query) mine.query = query
    loadingMine.value = true
    errorMine.value = null
    try {
      const data = await api.get('/api/requests', { ...mine.query, scope: 'mine' })
      mine.items = data.items
      mine.total = data.total
      mine.loaded = true
    } catch (err) {
      errorMine.value = err
      throw err
    } finally {
      loadingMine.value = false
    }
  }

  async function fetchOne(id) {
    loadingCurrent.value = true
    try {
      current.value = await api.get(`/api/requests/${id}`)
      return current.value
    } finally {
      loadingCurrent.value = false
    }
  }

  /**
   * Submit a request; with files, as one multipart body (the JSON in `data`, the files in `file`) that the
   * server stores in one transaction. `onProgress(loadedBytes, totalBytes)` follows the upload.
   */
  async function submit(form, files = [], onProgress) {
    let created
    if (files.length) {
      const body = new FormData()
      body.append('data', JSON.stringify(form))
      for (const file of files) body.append('file', file, file.name)
      created = await api.upload('/api/requests', body, { onProgress })
    } else {
      created = await api.post('/api/requests', form)
    }
    mine.loaded = false
    return created
  }

  async function withdraw(id) {
    const updated = await api.post(`/api/requests/${id}/withdraw`, { version: current.value?.version })
    await fetchOne(id)
    return updated
  }

  /** Change my returned (or not yet decided) request: only the changed fields, on the version on screen. */
  async function edit(id, changes) {
    const updated = await api.patch(`/api/requests/${id}`, { ...changes, version: current.value?.version })
    await fetchOne(id)
    return updated
  }

  /** Send my returned request back to its deciders. */
  async function resume(id) {
    const updated = await api.post(`/api/requests/${id}/resume`, { version: current.value?.version })
    await fetchOne(id)
    return updated
  }

  /** Submit a rejected or withdrawn request again; resolves to the new request (its `previous_id` is `id`). */
  async function resubmit(id, reason) {
    const created = await api.post(`/api/requests/${id}/resubmit`, reason ? { reason } : {})
    mine.loaded = false
    return created
  }

  /** Add a comment to the open request's thread (once, whatever arrives first: this answer or a push). */
  function addComment(requestId, comment) {
    const req = current.value
    if (req?.id !== requestId) return
    req.comments ||= []
    if (!req.comments.some((c) => c.id === comment.id)) req.comments.push(comment)
  }

  async function postComment(id, body) {
    const comment = await api.post(`/api/requests/${id}/comments`, { body })
    addComment(id, comment)
    return comment
  }

  /** A live `request_comment` from someone else: into the thread if that request is on screen. */
  function applyComment(payload) {
    addComment(payload.request_id, {
      id: payload.comment_id,
      author: { id: payload.actor?.id, display_name: payload.actor?.name },
      body: payload.body,
      at: payload.at,
    })
  }

  /** Download a CSV (the filtered list, or one request's trail) through the authenticated client. */
  async function exportCsv(path, query, filename) {
    saveFile(await api.blob(path, query), filename)
  }

  /** Active users, for choosing a transfer target. */
  async function searchUsers(q) {
    const data = await api.get('/api/users', { q })
    return data.items
  }

  /**
   * A live approval_update: patch the badge in the list and reload the open
   * detail. Older events (a replay after a newer refetch) never win.
   */
  function applyUpdate(payload) {
    const row = mine.items.find((r) => r.id === payload.request_id)
    // Compare as instants: the API writes "+00:00" where socket payloads write "Z".
    if (row && (!row.updated_at || Date.parse(payload.at) >= Date.parse(row.updated_at))) {
      row.state = payload.status
      row.step = payload.step
      row.updated_at = payload.at
    }
    if (current.value?.id === payload.request_id) fetchOne(payload.request_id).catch(() => {})
  }

  /**
   * The user's own action in another tab (`request_changed`, no inbox row): patch the row or
   * the open detail, or reload the list when it is a request this tab has not seen yet.
   */
  function applyOwnChange(payload) {
    const known = mine.items.some((r) => r.id === payload.request_id) || current.value?.id === payload.request_id
    if (known) applyUpdate({ ...payload, status: payload.state })
    else if (mine.loaded) fetchMine().catch(() => {})
  }

  /** After a reconnect, reload what is on screen: decisions may have been missed. */
  function onReconnect() {
    if (mine.loaded) fetchMine().catch(() => {})
    if (current.value) fetchOne(current.value.id).catch(() => {})
  }

  function reset() {
    Object.assign(mine, { items: [], total: 0, query: {}, loaded: false })
    errorMine.value = null
    current.value = null
  }

  return {
    mine,
    loadingMine,
    errorMine,
    current,
    loadingCurrent,
    fetchMine,
    fetchOne,
    submit,
    withdraw,
    edit,
    resume,
    resubmit,
    postComment,
    applyComment,
    searchUsers,
    exportCsv,
    applyUpdate,
    applyOwnChange,
    onReconnect,
    reset,
  }
})
