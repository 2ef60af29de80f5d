import { nextTick, watchEffect } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter } from 'vue-router'

/** The tab's title: the unread count first (it survives a narrow tab), then the page, then the app. */
export function pageTitle(t, route, unread = 0) {
  const key = route.meta?.title
  const page = key ? t(key, route.params || {}) : ''
  const title = page ? `${page} · AssetFlow` : 'AssetFlow'
  return unread > 0 ? `(${unread}) ${title}` : title
}

// A detail page draws its heading once its data is in: wait for it, briefly.
async function focusHeading(tries = 40) {
  await nextTick()
  for (let i = 0; i < tries; i += 1) {
    const heading = document.querySelector('main h1')
    if (heading) {
      heading.setAttribute('tabindex', '-1')
      heading.focus({ preventScroll: true })
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  document.getElementById('main')?.focus({ preventScroll: true })
}

/**
 * Tell every user that the page changed, as a full page load would: `document.title` follows the
 * route (and the unread count), and after an in-app navigation the focus moves to the new heading.
 */
export function usePageChange(unread) {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  watchEffect(() => {
    document.title = pageTitle(t, route, unread())
  })
  // Not on the first load: there the browser starts at the top of the document, as it should.
  router.afterEach((to, from, failure) => {
    if (!failure && from.matched.length && to.path !== from.path) focusHeading()
  })
}
