import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/services/api'

/** The company's departments (a tree, listed in path order): for filters and the admin screen. */
export const useDepartmentsStore = defineStore('departments', () => {
  const items = ref([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref(null)
  let pending = null

  async function doLoad() {
    loading.value = true
    error.value = null
    try {
      const data = await api.get('/api/departments')
      items.value = data.items
      loaded.value = true
    } catch (err) {
      error.value = err
      throw err
    } finally {
      loading.value = false
    }
  }

  /** Refetch (concurrent callers share one request). */
  function load() {
    pending ||= doLoad().finally(() => (pending = null))
    return pending
  }

  /** Load once: what a filter needs. */
  const ensure = () => (loaded.value ? Promise.resolve() : load())

  async function create(body) {
    const created = await api.post('/api/departments', body)
    await load()
    return created
  }

  async function update(id, body) {
    const updated = await api.patch(`/api/departments/${id}`, body)
    await load()
    return updated
  }

  /** A department's place in the tree, "Company / Sales", for a label. */
  const label = (d) => (d?.path?.length ? d.path.join(' / ') : d?.name || '')
  const byId = computed(() => new Map(items.value.map((d) => [d.id, d])))

  /** `id` and every department below it: the parents an edit may not pick (a cycle). */
  function subtree(id) {
    const below = new Set([id])
    let grew = true
    while (grew) {
      grew = false
      for (const d of items.value) {
        if (d.parent_id && below.has(d.parent_id) && !below.has(d.id)) {
          below.add(d.id)
          grew = true
        }
      }
    }
    return below
  }

  function reset() {
    items.value = []
    loaded.value = false
    error.value = null
  }

  return { items, loaded, loading, error, load, ensure, create, update, label, byId, subtree, reset }
})
