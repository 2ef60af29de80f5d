import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, ApiError, setSession } from '@/services/api'
import { secondsLeft } from '@/utils/jwt'
import { readJson, writeJson } from '@/utils/storage'

const STORAGE_KEY = 'assetflow.session'
// Refresh this long before the access token expires, so a request never races expiry.
const REFRESH_MARGIN_S = 60

export const useAuthStore = defineStore('auth', () => {
  const saved = readJson(STORAGE_KEY, {})
  const accessToken = ref(saved.accessToken || null)
  const refreshToken = ref(saved.refreshToken || null)
  const user = ref(saved.user || null)
  // Why the last session ended: 'expired' shows a notice on the login page.
  const endReason = ref(null)
  // The demo users ({users: [{username, display_name, role}], password}) when the server has them, else null
  // (never in production). The server's list is seed-demo's own, so the login page names every one.
  const demoUsers = ref(null)
  // How one may sign in here (GET /api/auth/methods): {password, sso: {display_name, login_url} | null}.
  const methods = ref(null)

  const isAuthenticated = computed(() => Boolean(accessToken.value && user.value))
  const role = computed(() => user.value?.role || null)
  const canApprove = computed(() => ['approver', 'admin'].includes(role.value))

  let refreshTimer = null
  let inflight = null

  function persist() {
    writeJson(
      STORAGE_KEY,
      accessToken.value ? { accessToken: accessToken.value, refreshToken: refreshToken.value, user: user.value } : null,
    )
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer)
    if (!accessToken.value) return
    const left = secondsLeft(accessToken.value)
    if (!Number.isFinite(left)) return
    const delay = Math.max(5, left - REFRESH_MARGIN_S) * 1000
    refreshTimer = setTimeout(() => refresh(), delay)
  }

  function setTokens(access, refreshTok = refreshToken.value) {
    accessToken.value = access
    refreshToken.value = refreshTok
    persist()
    scheduleRefresh()
  }

  /** Forget the session locally; `reason` 'expired' tells the login page why. */
  function clear(reason = null) {
    clearTimeout(refreshTimer)
    accessToken.value = null
    refreshToken.value = null
    user.value = null
    endReason.value = reason
    persist()
  }

  /** Start a session from a login answer ({access_token, refresh_token, user}). */
  function adopt(data) {
    user.value = data.user
    endReason.value = null
    setTokens(data.access_token, data.refresh_token)
    return data.user
  }

  async function login(username, password) {
    return adopt(await api.post('/api/auth/login', { username, password }, { auth: false }))
  }

  /** Back from single sign-on: trade the ticket the server left in an HttpOnly cookie for tokens. */
  async function completeSso() {
    return adopt(await api.post('/api/auth/oidc/session', {}, { auth: false }))
  }

  /** An admin's one-time code from `flask break-glass`. */
  async function breakGlass(code) {
    return adopt(await api.post('/api/auth/break-glass', { code }, { auth: false }))
  }

  /** Ask the server how one may sign in; an older server without the endpoint takes passwords. */
  async function loadMethods() {
    try {
      methods.value = await api.get('/api/auth/methods', undefined, { auth: false })
    } catch {
      methods.value = { password: true, sso: null }
    }
  }

  async function logout() {
    const body = refreshToken.value ? { refresh_token: refreshToken.value } : {}
    try {
      // Revokes both tokens server-side and closes this token's sockets.
      if (accessToken.value) await api.post('/api/auth/logout', body)
    } catch {
      // Logging out must always work locally, even offline or with a dead token.
    }
    clear()
  }

  async function doRefresh() {
    if (!refreshToken.value) return false
    try {
      const data = await api.post('/api/auth/refresh', {}, { token: refreshToken.value })
      setTokens(data.access_token)
      return true
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        clear('expired')
        return false
      }
      // A network blip: try again soon while the current token still works.
      if (accessToken.value && secondsLeft(accessToken.value) > 10) {
        clearTimeout(refreshTimer)
        refreshTimer = setTimeout(() => refresh(), 15000)
      }
      return false
    }
  }

  /** Get a new access token; concurrent callers share one request. */
  function refresh() {
    if (!inflight) inflight = doRefresh().finally(() => (inflight = null))
    return inflight
  }

  /** The access token, refreshed first when it has less than `minValidity` seconds left. */
  async function ensureFreshToken(minValidity = 30) {
    if (accessToken.value && secondsLeft(accessToken.value) < minValidity) await refresh()
    return accessToken.value
  }

  /** Ask the server whether the demo users exist and who they are, for the login page's hint. */
  async function checkDemo() {
    try {
      const health = await api.get('/healthz', undefined, { auth: false })
      demoUsers.value =
        health?.demo === true ? { users: health.demo_users || [], password: health.demo_password } : null
    } catch {
      demoUsers.value = null
    }
  }

  async function loadMe() {
    user.value = await api.get('/api/auth/me')
    persist()
  }

  // Another tab logged in, refreshed or logged out: follow it rather than act on stale tokens.
  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY) return
      const next = readJson(STORAGE_KEY, null)
      if (!next?.accessToken) {
        if (accessToken.value) clear()
        return
      }
      accessToken.value = next.accessToken
      refreshToken.value = next.refreshToken
      user.value = next.user
      scheduleRefresh()
    })
  }

  setSession({
    accessToken: () => accessToken.value,
    refresh,
    expire: () => clear('expired'),
  })
  scheduleRefresh()

  return {
    accessToken,
    refreshToken,
    user,
    endReason,
    demoUsers,
    methods,
    isAuthenticated,
    role,
    canApprove,
    login,
    completeSso,
    breakGlass,
    loadMethods,
    logout,
    clear,
    refresh,
    ensureFreshToken,
    loadMe,
    checkDemo,
  }
})
