import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

/** Webhooks for the admin screen: the list, the events one may subscribe to, and each one's delivery log. */
export const useWebhooksStore = defineStore('webhooks', () => {
  const items = ref([])
  const events = ref([])

  async function load() {
    const body = await api.get('/api/webhooks')
    items.value = body.items
    events.value = body.events
  }

  function replace(hook) {
    const at = items.value.findIndex((h) => h.id === hook.id)
    if (at === -1) items.value.push(hook)
    else items.value.splice(at, 1, hook)
    return hook
  }

  /** Register one ({url, events, secret}); the secret never comes back. */
  const create = async (data) => replace(await api.post('/api/webhooks', data))

  /** Change some of url, events, secret, active. */
  const update = async (id, changes) => replace(await api.patch(`/api/webhooks/${id}`, changes))

  /** Queue a test delivery; resolves to that delivery. */
  const ping = (id) => api.post(`/api/webhooks/${id}/ping`)

  /** One page of a webhook's deliveries, newest first. */
  const deliveries = (id, page = 1, perPage = 10) =>
    api.get(`/api/webhooks/${id}/deliveries`, { page, per_page: perPage })

  return { items, events, load, create, update, ping, deliveries }
})
