// Every list and detail view: a skeleton while loading, an error with a retry when the server
// fails, and its empty text only when the server said there is nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import AssetDetailView from './AssetDetailView.vue'
import AssetsView from './AssetsView.vue'
import DelegationsView from './DelegationsView.vue'
import DepartmentsView from './admin/DepartmentsView.vue'
import RulesView from './admin/RulesView.vue'
import UsersView from './admin/UsersView.vue'
import MyRequestsView from './MyRequestsView.vue'
import NotificationsView from './NotificationsView.vue'
import RequestDetailView from './RequestDetailView.vue'
import { ALICE, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const FAIL = () => [500, { error: { code: 'internal_error', message: 'Internal server error' } }]
const HANG = () => new Promise(() => {})
const VIEWS = [
  { name: 'my requests', view: MyRequestsView, route: 'GET /api/requests', empty: { items: [], total: 0 } },
  { name: 'assets', view: AssetsView, route: 'GET /api/assets', empty: { items: [], total: 0 } },
  {
    name: 'notifications',
    view: NotificationsView,
    route: 'GET /api/notifications',
    empty: { items: [], last_seq: 0, unread_count: 0 },
  },
  { name: 'request detail', view: RequestDetailView, route: 'GET /api/requests/5', props: { id: 5 } },
  { name: 'asset detail', view: AssetDetailView, route: 'GET /api/assets/5', props: { id: 5 } },
  { name: 'departments', view: DepartmentsView, route: 'GET /api/departments', empty: { items: [] } },
  { name: 'users', view: UsersView, route: 'GET /api/users', empty: { items: [], total: 0 } },
  { name: 'approval rules', view: RulesView, route: 'GET /api/approval-rules', asRoute: 'admin-rules' },
  { name: 'delegations', view: DelegationsView, route: 'GET /api/delegations', empty: { items: [] } },
]
let net
let mounted

beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  net = installFakeFetch({
    'GET /api/assets/categories': () => [200, { items: [] }],
    'GET /api/approval-rules/changes': () => [200, { items: [] }],
  })
})
afterEach(() => mounted?.wrapper.unmount())

describe.each(VIEWS)('$name', ({ view, route, empty, props, asRoute }) => {
  it('shows a loading state, never the empty text, while it loads', async () => {
    net.route(route, HANG)
    mounted = await mountView(view, { props, asRoute })
    await settle()
    expect(mounted.wrapper.find('[data-test=loading]').exists()).toBe(true)
    expect(mounted.wrapper.find('[data-test=empty]').exists()).toBe(false)
  })

  it('shows an error with a retry when the server fails', async () => {
    net.route(route, FAIL)
    mounted = await mountView(view, { props, asRoute })
    await settle()
    expect(mounted.wrapper.find('[data-test=load-error]').text()).toContain('The server had a problem')
    expect(mounted.wrapper.find('[data-test=empty]').exists()).toBe(false)
    const calls = net.callsTo(route).length
    await mounted.wrapper.find('[data-test=retry]').trigger('click')
    await settle()
    expect(net.callsTo(route).length).toBe(calls + 1)
  })

  if (empty) {
    it('shows its empty text when the server has nothing', async () => {
      net.route(route, () => [200, empty])
      mounted = await mountView(view, { props, asRoute })
      await settle()
      expect(mounted.wrapper.find('[data-test=empty]').exists()).toBe(true)
      expect(mounted.wrapper.find('[data-test=load-error]').exists()).toBe(false)
    })
  }
})
