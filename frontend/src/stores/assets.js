import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/services/api'

export const ASSET_STATUSES = ['in_stock', 'in_use', 'in_repair', 'disposed']

/** The asset register: a filtered, paginated list and one asset with its history. */
export const useAssetsStore = defineStore('assets', () => {
  const list = reactive({ items: [], total: 0, page: 1, perPage: 20 })
  const filters = reactive({ status: '', category: '', q: '' })
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref(null)
  const current = ref(null)
  const categories = ref([])

  async function fetchList(opts = {}) {
    Object.assign(list, opts)
    loading.value = true
    error.value = null
    try {
      const data = await api.get('/api/assets', {
        ...filters,
        page: list.page,
        per_page: list.perPage,
      })
      list.items = data.items
      list.total = data.total
      loaded.value = true
    } catch (err) {
      error.value = err
      throw err
    } finally {
      loading.value = false
    }
  }

  function setFilters(next) {
    Object.assign(filters, next)
    return fetchList({ page: 1 })
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

  /** Assets matching `q` (and a status and custodian when given), for the submit form's picker. */
  async function search(q, status, custodianId) {
    const data = await api.get('/api/assets', { q, status, custodian_id: custodianId, per_page: 20 })
    return data.items
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
    filters,
    loading,
    loaded,
    error,
    current,
    categories,
    fetchList,
    setFilters,
    fetchOne,
    fetchCategories,
    search,
    getById,
    create,
    update,
  }
})
