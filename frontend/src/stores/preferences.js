import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

/** The signed-in user's own settings (GET/PUT /api/me/preferences): e-mail mode, digest interval, language. */
export const usePreferencesStore = defineStore('preferences', () => {
  const data = ref(null)

  async function load() {
    data.value = await api.get('/api/me/preferences')
    return data.value
  }

  /** Save all three; the server answers with what it stored. */
  async function save(preferences) {
    data.value = await api.put('/api/me/preferences', preferences)
    return data.value
  }

  return { data, load, save }
})
