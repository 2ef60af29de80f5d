import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

/** The signed-in person's API tokens: the list, the scopes their role may give, make and revoke. */
export const useTokensStore = defineStore('tokens', () => {
  const items = ref([])
  const scopes = ref([])

  async function load() {
    const body = await api.get('/api/tokens')
    items.value = body.items
    scopes.value = body.scopes
  }

  /** Make one ({name, scopes, expires_at}); resolves to it with its `secret`, which is never sent again. */
  async function create(data) {
    const made = await api.post('/api/tokens', data)
    const { secret, ...token } = made
    items.value.unshift(token)
    return { token, secret }
  }

  async function revoke(id) {
    await api.del(`/api/tokens/${id}`)
    items.value = items.value.filter((token) => token.id !== id)
  }

  return { items, scopes, load, create, revoke }
})
