import { ref, watch } from 'vue'
import { useApiError } from './useApiError'

/**
 * Load one record whenever its id changes; a 404 becomes `notFound` (the page shows a
 * "not found" result), any other failure a toast.
 */
export function useDetailLoader(id, fetchOne) {
  const showError = useApiError()
  const notFound = ref(false)

  async function load() {
    notFound.value = false
    try {
      await fetchOne(id())
    } catch (err) {
      if (err.status === 404) notFound.value = true
      else showError(err)
    }
  }
  watch(id, load, { immediate: true })
  return { notFound, load }
}
