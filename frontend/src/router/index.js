import { createRouter, createWebHistory } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { useMetaStore } from '@/stores/meta'

const APPROVERS = ['approver', 'admin']
const ADMINS = ['admin']

/** Where a user starts: an approver or an admin on their queue, anyone else on their own requests. */
export const homeFor = (role) => (APPROVERS.includes(role) ? 'dashboard' : 'requests')

const routes = [
  {
    path: '/',
    name: 'home',
    redirect: () => {
      const auth = useAuthStore()
      return auth.isAuthenticated ? { name: homeFor(auth.role) } : { name: 'login' }
    },
  },
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  {
    path: '/requests',
    name: 'requests',
    component: () => import('@/views/MyRequestsView.vue'),
    meta: { title: 'nav.requests' },
  },
  {
    path: '/requests/new',
    name: 'submit',
    component: () => import('@/views/SubmitRequestView.vue'),
    meta: { title: 'nav.submit' },
  },
  {
    path: '/requests/:id(\\d+)',
    name: 'request',
    component: () => import('@/views/RequestDetailView.vue'),
    meta: { title: 'detail.title' },
    props: (route) => ({ id: Number(route.params.id) }),
  },
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('@/views/DashboardView.vue'),
    meta: { roles: APPROVERS, title: 'nav.dashboard' },
  },
  { path: '/assets', name: 'assets', component: () => import('@/views/AssetsView.vue'), meta: { title: 'nav.assets' } },
  {
    path: '/my-assets',
    name: 'my-assets',
    component: () => import('@/views/AssetsView.vue'),
    meta: { title: 'lists.myAssets' },
    props: { mine: true },
  },
  {
    path: '/assets/:id(\\d+)',
    name: 'asset',
    component: () => import('@/views/AssetDetailView.vue'),
    meta: { title: 'assets.detailTitle' },
    props: (route) => ({ id: Number(route.params.id) }),
  },
  {
    // Admins and department managers (the server answers 403 to anyone else; the page says so).
    path: '/reports',
    name: 'reports',
    component: () => import('@/views/ReportsView.vue'),
    meta: { title: 'reports.title' },
  },
  {
    path: '/delegations',
    name: 'delegations',
    component: () => import('@/views/DelegationsView.vue'),
    meta: { roles: APPROVERS, title: 'nav.delegations' },
  },
  { path: '/admin', redirect: { name: 'admin-departments' } },
  {
    path: '/admin/departments',
    name: 'admin-departments',
    component: () => import('@/views/admin/DepartmentsView.vue'),
    meta: { roles: ADMINS, title: 'departments.title' },
  },
  {
    path: '/admin/users',
    name: 'admin-users',
    component: () => import('@/views/admin/UsersView.vue'),
    meta: { roles: ADMINS, title: 'users.title' },
  },
  {
    path: '/admin/rules',
    name: 'admin-rules',
    component: () => import('@/views/admin/RulesView.vue'),
    meta: { roles: ADMINS, title: 'rules.title' },
  },
  {
    path: '/admin/import',
    name: 'admin-import',
    component: () => import('@/views/admin/ImportView.vue'),
    meta: { roles: ADMINS, title: 'imports.title' },
  },
  {
    path: '/notifications',
    name: 'notifications',
    component: () => import('@/views/NotificationsView.vue'),
    meta: { title: 'nav.notifications' },
  },
  {
    path: '/preferences',
    name: 'preferences',
    component: () => import('@/views/PreferencesView.vue'),
    meta: { title: 'preferences.title' },
  },
  {
    path: '/tokens',
    name: 'api-tokens',
    component: () => import('@/views/ApiTokensView.vue'),
    meta: { title: 'apiTokens.title' },
  },
  {
    path: '/admin/webhooks',
    name: 'webhooks',
    component: () => import('@/views/WebhooksView.vue'),
    meta: { roles: ['admin'], title: 'webhooks.title' },
  },
  // An e-mail's approve / reject link: the token is the credential, signed in or not.
  {
    path: '/email-action',
    name: 'email-action',
    component: () => import('@/views/EmailActionView.vue'),
    meta: { public: true, title: 'emailAction.pageTitle' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { title: 'common.notFound' },
  },
  // A page the user's role may not open, shown at that page's own address (reached by name only: a path
  // that matches no page is the not-found route above, which comes first).
  {
    path: '/:deniedPath(.*)*',
    name: 'forbidden',
    component: () => import('@/views/ForbiddenView.vue'),
    meta: { title: 'shell.forbidden' },
  },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

// Every page needs a session except the login page; the dashboard needs a deciding role.
router.beforeEach(async (to) => {
  const auth = useAuthStore()
  // The server's rules (kinds, limits, statuses; public, loaded once) before any page renders;
  // a failure leaves the page to show its own error rather than blocking navigation.
  await useMetaStore()
    .load()
    .catch(() => {})
  if (to.meta.public) {
    return to.name === 'login' && auth.isAuthenticated ? { name: homeFor(auth.role) } : true
  }
  if (!auth.isAuthenticated) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  // Say so where the user asked, rather than land them somewhere else without a word.
  if (to.meta.roles && !to.meta.roles.includes(auth.role)) {
    return { name: 'forbidden', params: { deniedPath: to.path.split('/').slice(1) }, query: to.query, hash: to.hash }
  }
  return true
})

export default router
