import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/services/api'

/** The admin's list of users (every user, with role, department and active), and the user pickers. */
export const useUsersStore = defineStore('users', () => {
  // `query` is the list state from the URL (useListQuery): q, role, department_id, active, page, per_page.
  const list = reactive({ items: [], total: 0, query: {}, loaded: false })
  const loading = ref(false)
  const error = ref(null)

  async function fetchList(query) {
    if (query) list.query = query
    loading.value = true
    error.value = null
    try {
      const data = await api.get('/api/users', list.query)
      list.items = data.items
      list.total = data.total ?? data.items.length
      list.loaded = true
    } catch (err) {
      error.value = err
      throw err
    } finally {
      loading.value = false
    }
  }

  async function create(body) {
    const created = await api.post('/api/users', body)
    fetchList().catch(() => {})
    return created
  }

  /** Change some of a user's fields; the row on screen takes the server's answer. */
  async function update(id, body) {
    const updated = await api.patch(`/api/users/${id}`, body)
    const at = list.items.findIndex((u) => u.id === id)
    if (at !== -1) list.items[at] = { ...list.items[at], ...updated }
    return updated
  }

  /** Active users matching `q`: a picker's options (managers, delegates). */
  async function search(q) {
    // Only `q`: every user may search, and an admin's answer (every user) is filtered here.
    const data = await api.get('/api/users', { q })
    return data.items.filter((u) => u.active !== false)
  }

  function reset() {
    Object.assign(list, { items: [], total: 0, query: {}, loaded: false })
    error.value = null
  }

  return { list, loading, error, fetchList, create, update, search, reset }
})
