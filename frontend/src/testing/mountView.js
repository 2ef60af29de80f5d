// Mount a view as the app would: real Pinia, i18n and router, the server's rules (GET /api/meta) loaded;
// the network is fakeFetch.
import { h } from 'vue'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { RouterView, createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '@/i18n'
import { useMetaStore } from '@/stores/meta'
import META from '@/testing/meta.json'

const stub = { template: '<div />' }
const routes = [
  'login',
  'requests',
  'submit',
  'request',
  'dashboard',
  'assets',
  'my-assets',
  'asset',
  'notifications',
  'delegations',
  'admin-departments',
  'admin-users',
  'admin-rules',
  'webhooks',
  'admin-import',
  'preferences',
  'api-tokens',
].map((name) => ({ name, path: `/${name}/:id?`, component: stub }))

/**
 * `before(pinia)` runs before the mount, e.g. to stub a store's function. `asRoute` (a route name)
 * shows the view through a <router-view> at that route, for views with route guards.
 */
export async function mountView(component, { props = {}, locale = 'en', query = {}, before, asRoute } = {}) {
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = locale
  // The router guard loads the server's rules before any page; here they come from the fixture.
  useMetaStore(pinia).data = META
  before?.(pinia)
  const table = routes.map((r) => (r.name === asRoute ? { ...r, component, props } : r))
  const router = createRouter({ history: createMemoryHistory(), routes: table })
  await router.push(asRoute ? { name: asRoute, query } : { path: '/requests', query })
  const root = asRoute ? { render: () => h(RouterView) } : component
  const wrapper = mount(root, {
    props: asRoute ? {} : props,
    global: { plugins: [pinia, i18n, router] },
    attachTo: document.body,
  })
  return { wrapper, router, pinia }
}

/** Let pending fetches and re-renders settle. */
export async function settle() {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 0))
  await flushPromises()
}
