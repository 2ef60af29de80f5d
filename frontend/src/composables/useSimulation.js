import { onBeforeUnmount, ref, watch } from 'vue'
import { useRoutingStore } from '@/stores/routing'

export const SIMULATE_DELAY_MS = 400

/**
 * Ask the rule simulator where a request would go, again after each pause in the input.
 * `body()` returns the simulate body, or null while there is not enough to ask. Only the answer to the
 * latest body is kept: an older one arriving late is dropped. A 422 (a draft that is not valid yet, an
 * unknown department) is kept in `refused`, other failures in `error`; neither is a toast.
 */
export function useSimulation(body, delay = SIMULATE_DELAY_MS) {
  const store = useRoutingStore()
  const result = ref(null)
  const refused = ref(null)
  const error = ref(null)
  const loading = ref(false)
  let timer = null
  let asked = 0

  async function ask(payload, number) {
    try {
      const answer = await store.simulate(payload)
      if (number === asked) [result.value, refused.value, error.value] = [answer, null, null]
    } catch (err) {
      if (number !== asked) return
      result.value = null
      ;[refused.value, error.value] = err.status === 422 ? [err, null] : [null, err]
    } finally {
      if (number === asked) loading.value = false
    }
  }

  watch(
    () => JSON.stringify(body()),
    (json) => {
      clearTimeout(timer)
      const number = ++asked
      const payload = JSON.parse(json)
      if (payload === null) {
        ;[result.value, refused.value, error.value, loading.value] = [null, null, null, false]
        return
      }
      loading.value = true
      timer = setTimeout(() => ask(payload, number), delay)
    },
    { immediate: true },
  )
  onBeforeUnmount(() => clearTimeout(timer))

  return { result, refused, error, loading }
}
