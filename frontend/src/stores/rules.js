import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

/** The approval rules as the server has them, and the audit of their changes. */
export const useRulesStore = defineStore('rules', () => {
  const items = ref([])
  const isDefault = ref(false)
  const updatedAt = ref(null)
  const updatedBy = ref(null)
  const loaded = ref(false)
  const error = ref(null)
  const changes = ref([])
  const changesError = ref(null)

  function take(data) {
    items.value = data.items
    isDefault.value = !!data.default
    updatedAt.value = data.updated_at || null
    updatedBy.value = data.updated_by || null
    loaded.value = true
  }

  async function load() {
    error.value = null
    try {
      take(await api.get('/api/approval-rules'))
    } catch (err) {
      error.value = err
      throw err
    }
  }

  /** Replace the whole ordered list; a 422 carries `details.fields` keyed like `items.1.steps.0.role`. */
  async function save(rules) {
    take(await api.put('/api/approval-rules', { items: rules }))
    loadChanges().catch(() => {})
  }

  async function loadChanges() {
    changesError.value = null
    try {
      changes.value = (await api.get('/api/approval-rules/changes')).items
    } catch (err) {
      changesError.value = err
      throw err
    }
  }

  return { items, isDefault, updatedAt, updatedBy, loaded, error, changes, changesError, load, save, loadChanges }
})
