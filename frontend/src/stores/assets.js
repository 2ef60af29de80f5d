import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/services/api'

/** The asset register: a filtered, paginated list and one asset with its history. */
export const useAssetsStore = defineStore('assets', () => {
  // `query` is the list state from the URL (useListQuery): q, status, category, sort, page, per_page, mine.
  const list = reactive({ items: [], total: 0, query: {} })
  const loading = ref(false)
  const current = ref(null)
  const categories = ref([])

  async function fetchList(query) {
    if (query) list.query = query
    loading.value = true
    try {
      const data = await api.get('/api/assets', list.query)
      list.items = data.items
      list.total = data.total
    } finally {
      loading.value = false
    }
  }

  async function fetchOne(id) {
    current.value = await api.get(`/api/assets/${id}`)
    return current.value
  }

  async function fetchCategories() {
    if (categories.value.length) return categories.value
    categories.value = (await api.get('/api/assets/categories')).items
    return categories.value
  }

  /** Assets matching `q`, for the submit form's picker. */
  async function search(q, status) {
    const data = await api.get('/api/assets', { q, status, per_page: 20 })
    return data.items
  }

  /** An asset's custody history: every change of custodian and status, oldest first. */
  async function fetchHistory(id) {
    return (await api.get(`/api/assets/${id}/history`)).items
  }

  async function getById(id) {
    return api.get(`/api/assets/${id}`)
  }

  // A category typed for the first time joins the loaded pickers without a refetch
  // (an empty list is left alone: fetchCategories() would take it as loaded).
  function rememberCategory(category) {
    const known = categories.value
    if (known.length && !known.includes(category)) categories.value = [...known, category].sort()
  }

  /** Register an asset (admin), then reload the list so it shows up. */
  async function create(body) {
    const asset = await api.post('/api/assets', body)
    rememberCategory(asset.category)
    await fetchList()
    return asset
  }

  /** Edit an asset (admin), then refresh the open detail and the list row. */
  async function update(id, body) {
    const asset = await api.patch(`/api/assets/${id}`, body)
    rememberCategory(asset.category)
    const row = list.items.findIndex((a) => a.id === id)
    if (row >= 0) list.items.splice(row, 1, asset)
    if (current.value?.id === id) await fetchOne(id)
    return asset
  }

  return {
    list,
    loading,
    current,
    categories,
    fetchList,
    fetchHistory,
    fetchOne,
    fetchCategories,
    search,
    getById,
    create,
    update,
  }
})
