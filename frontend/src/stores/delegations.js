import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

/** Delegations the user gave and received (an admin may ask for every one). */
export const useDelegationsStore = defineStore('delegations', () => {
  const items = ref([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref(null)
  const all = ref(false)

  async function load(everyone = all.value) {
    all.value = everyone
    loading.value = true
    error.value = null
    try {
      const data = await api.get('/api/delegations', everyone ? { all: 1 } : undefined)
      items.value = data.items
      loaded.value = true
    } catch (err) {
      error.value = err
      throw err
    } finally {
      loading.value = false
    }
  }

  async function create(body) {
    const created = await api.post('/api/delegations', body)
    await load()
    return created
  }

  async function remove(id) {
    await api.del(`/api/delegations/${id}`)
    items.value = items.value.filter((d) => d.id !== id)
  }

  function reset() {
    items.value = []
    loaded.value = false
    error.value = null
    all.value = false
  }

  return { items, loaded, loading, error, all, load, create, remove, reset }
})
