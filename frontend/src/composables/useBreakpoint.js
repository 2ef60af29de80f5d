import { onBeforeUnmount, onMounted, ref } from 'vue'

// Phone-sized: the width below which styles.css and the views switch to their small layouts.
export const PHONE_QUERY = '(max-width: 640px)'
// Below 1,024 px the header's links fold into its "Menu" button (components/AppHeader.vue).
export const HEADER_LINKS_QUERY = '(max-width: 1023px)'

/** True while the viewport is phone-sized, for layouts that differ on small screens. */
export function useBreakpoint(query = PHONE_QUERY) {
  const narrow = ref(typeof window !== 'undefined' && window.matchMedia?.(query).matches)
  let mql = null
  const update = (e) => (narrow.value = e.matches)
  onMounted(() => {
    mql = window.matchMedia?.(query)
    if (!mql) return
    narrow.value = mql.matches
    mql.addEventListener('change', update)
  })
  onBeforeUnmount(() => mql?.removeEventListener('change', update))
  return { narrow }
}
