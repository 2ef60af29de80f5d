import { computed, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'

/**
 * One list's state (search, filters, sort, page, page size) kept in the URL query, so a reload,
 * a shared link and the back button all show the same list. `defaults` names every key and its
 * default (numbers stay numbers); only values that differ from it appear in the URL. `load(query)`
 * runs now and whenever the query changes while this route is on screen.
 */
export function useListQuery(defaults, load) {
  const route = useRoute()
  const router = useRouter()
  const routeName = route.name

  const query = computed(() => parseQuery(route.query, defaults))

  /** Change some keys; any change but the page itself goes back to page 1. */
  function update(patch) {
    const next = { ...query.value, ...patch }
    if (!('page' in patch)) next.page = defaults.page ?? 1
    router.push({ query: { ...otherKeys(route.query, defaults), ...toQuery(next, defaults) } })
  }

  watch(
    () => (route.name === routeName ? JSON.stringify(query.value) : null),
    (key) => key && load(query.value),
    { immediate: true },
  )

  return { query, update, setPage: (page) => update({ page }) }
}

/** The typed list state from a route query: unknown keys ignored, bad numbers fall back to defaults. */
export function parseQuery(raw, defaults) {
  const out = {}
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = Array.isArray(raw[key]) ? raw[key][0] : raw[key]
    if (value === undefined || value === null || value === '') out[key] = fallback
    else if (typeof fallback === 'number') {
      const n = Number.parseInt(value, 10)
      out[key] = Number.isFinite(n) && n > 0 ? n : fallback
    } else out[key] = String(value)
  }
  return out
}

/** The URL query for a list state: only what differs from the defaults. */
export function toQuery(state, defaults) {
  const out = {}
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = state[key]
    if (value !== undefined && value !== null && value !== '' && value !== fallback) out[key] = String(value)
  }
  return out
}

function otherKeys(raw, defaults) {
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !(key in defaults)))
}
