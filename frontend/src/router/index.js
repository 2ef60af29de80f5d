import { createRouter, createWebHistory } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { useMetaStore } from '@/stores/meta'

const APPROVERS = ['approver', 'admin']

const routes = [
  { path: '/', redirect: { name: 'requests' } },
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  { path: '/requests', name: 'requests', component: () => import('@/views/MyRequestsView.vue') },
  { path: '/requests/new', name: 'submit', component: () => import('@/views/SubmitRequestView.vue') },
  {
    path: '/requests/:id(\\d+)',
    name: 'request',
    component: () => import('@/views/RequestDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('@/views/DashboardView.vue'),
    meta: { roles: APPROVERS },
  },
  { path: '/assets', name: 'assets', component: () => import('@/views/AssetsView.vue') },
  { path: '/my-assets', name: 'my-assets', component: () => import('@/views/AssetsView.vue'), props: { mine: true } },
  {
    path: '/assets/:id(\\d+)',
    name: 'asset',
    component: () => import('@/views/AssetDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  { path: '/notifications', name: 'notifications', component: () => import('@/views/NotificationsView.vue') },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
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
  await useMetaStore().load().catch(() => {})
  if (to.meta.public) {
    return to.name === 'login' && auth.isAuthenticated ? { name: 'requests' } : true
  }
  if (!auth.isAuthenticated) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.meta.roles && !to.meta.roles.includes(auth.role)) return { name: 'requests' }
  return true
})

export default router
