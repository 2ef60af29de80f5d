import { ref, watch } from 'vue'

/**
 * Load one record whenever its id changes. A 404 becomes `notFound` (the page shows a "not
 * found" result); any other failure becomes `error`, which the page shows with a retry.
 */
export function useDetailLoader(id, fetchOne) {
  const notFound = ref(false)
  const error = ref(null)

  async function load() {
    notFound.value = false
    error.value = null
    try {
      await fetchOne(id())
    } catch (err) {
      if (err.status === 404) notFound.value = true
      else error.value = err
    }
  }
  watch(id, load, { immediate: true })
  return { notFound, error, load }
}
