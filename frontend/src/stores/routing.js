import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

/**
 * Who decides: the admin's routing check (departments whose requests could not be decided today) and the
 * rule simulator (where one request would go), both answered by the server's routing (services/routing.py).
 */
export const useRoutingStore = defineStore('routing', () => {
  const stuck = ref([])
  const checked = ref(0)
  const loaded = ref(false)
  const error = ref(null)

  /** GET /api/routing-check (admin). */
  async function check() {
    error.value = null
    try {
      const data = await api.get('/api/routing-check')
      stuck.value = data.items
      checked.value = data.departments_checked
      loaded.value = true
    } catch (err) {
      error.value = err
      throw err
    }
  }

  /** POST /api/approval-rules/simulate: `{rule, steps, problems, applicant, department}`; writes nothing. */
  const simulate = (body) => api.post('/api/approval-rules/simulate', body)

  return { stuck, checked, loaded, error, check, simulate }
})
