import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import LoginView from './LoginView.vue'
import { installFakeFetch } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

let net
let mounted

beforeEach(() => {
  localStorage.clear()
  net = installFakeFetch()
})
afterEach(() => mounted?.wrapper.unmount())

describe('login page', () => {
  it('says which fields are missing on an empty submit, and sends nothing', async () => {
    net.route('GET /healthz', () => [200, { status: 'ok', demo: false }])
    mounted = await mountView(LoginView)
    await settle()
    await mounted.wrapper.find('form').trigger('submit')
    await settle()
    await new Promise((r) => setTimeout(r, 300))
    const errors = mounted.wrapper.findAll('.el-form-item__error').map((e) => e.text())
    expect(errors).toEqual(['Enter your username', 'Enter your password'])
    expect(net.callsTo('POST /api/auth/login')).toHaveLength(0)
  })

  it('hides the demo passwords unless the server has the demo users', async () => {
    net.route('GET /healthz', () => [200, { status: 'ok', demo: false }])
    mounted = await mountView(LoginView)
    await settle()
    expect(mounted.wrapper.text()).not.toContain('assetflow-demo')
  })

  it('names every demo user the server has, by role, with the password it gives', async () => {
    const users = [
      ['alice', 'employee'],
      ['dave', 'employee'],
      ['bob', 'approver'],
      ['carol', 'approver'],
      ['erik', 'approver'],
      ['sara', 'approver'],
      ['fiona', 'approver'],
      ['frank', 'approver'],
      ['admin', 'admin'],
    ].map(([username, role]) => ({ username, role, display_name: username }))
    net.route('GET /healthz', () => [200, { status: 'ok', demo: true, demo_users: users, demo_password: 'pw-1' }])
    mounted = await mountView(LoginView)
    await settle()
    const hint = mounted.wrapper.find('[data-test=demo-hint]')
    expect(hint.text()).toContain('pw-1')
    for (const { username } of users) expect(hint.text()).toContain(username)
    expect(hint.findAll('[data-demo-role]').map((li) => li.text())).toEqual([
      'alice, dave (employees)',
      'bob, carol, erik, sara, fiona, frank (approvers)',
      'admin (administrators)',
    ])
  })
})

describe('login page with single sign-on', () => {
  const SSO = { display_name: 'Contoso ID', login_url: '/api/auth/oidc/login' }

  beforeEach(() => net.route('GET /healthz', () => [200, { status: 'ok', demo: true }]))

  it('offers "Sign in with <name>" beside the password form, keeping the page to return to', async () => {
    net.route('GET /api/auth/methods', () => [200, { password: true, sso: SSO }])
    mounted = await mountView(LoginView, { query: { redirect: '/requests/7' } })
    await settle()
    const button = mounted.wrapper.find('[data-test=sso-login]')
    expect(button.text()).toBe('Sign in with Contoso ID')
    expect(button.attributes('href')).toBe('/api/auth/oidc/login?next=%2Frequests%2F7')
    expect(mounted.wrapper.find('[data-test=username]').exists()).toBe(true)
  })

  it('hides the password form, and the demo passwords, when the server takes no passwords', async () => {
    net.route('GET /api/auth/methods', () => [200, { password: false, sso: SSO }])
    mounted = await mountView(LoginView, { locale: 'zh-CN' })
    await settle()
    expect(mounted.wrapper.find('[data-test=sso-login]').text()).toBe('使用 Contoso ID 登录')
    expect(mounted.wrapper.find('form').exists()).toBe(false)
    expect(mounted.wrapper.find('[data-test=demo-hint]').exists()).toBe(false)
  })

  it('says why a sign-in was refused, from the code in the address', async () => {
    net.route('GET /api/auth/methods', () => [200, { password: false, sso: SSO }])
    mounted = await mountView(LoginView, { query: { sso_error: 'unknown_department' } })
    await settle()
    expect(mounted.wrapper.find('[data-test=sso-error]').text()).toContain('Your department')
    await mounted.router.push({ path: '/requests', query: { sso_error: 'something_new' } })
    await settle()
    expect(mounted.wrapper.find('[data-test=sso-error]').text()).toContain('Sign-in refused (something_new)')
  })

  it('back from the provider, trades the ticket cookie for a session and goes on', async () => {
    net.route('GET /api/auth/methods', () => [200, { password: false, sso: SSO }])
    const user = { id: 4, username: 'kim', display_name: 'Kim', role: 'employee' }
    net.route('POST /api/auth/oidc/session', () => [200, { access_token: 'a.b.c', refresh_token: 'd.e.f', user }])
    mounted = await mountView(LoginView, { query: { sso: 'done', redirect: '/assets' } })
    await settle()
    expect(net.callsTo('POST /api/auth/oidc/session')).toHaveLength(1)
    expect(mounted.router.currentRoute.value.path).toBe('/assets')
    expect(JSON.parse(localStorage.getItem('assetflow.session')).user.username).toBe('kim')
  })

  it('says so when the ticket is gone', async () => {
    net.route('GET /api/auth/methods', () => [200, { password: true, sso: SSO }])
    net.route('POST /api/auth/oidc/session', () => [401, { error: { code: 'ticket_invalid', message: 'x' } }])
    mounted = await mountView(LoginView, { query: { sso: 'done' } })
    await settle()
    expect(mounted.wrapper.find('[data-test=login-error]').text()).toContain('could not be completed')
  })

  it("says so when passwords are refused (the server's 403)", async () => {
    net.route('GET /api/auth/methods', () => [500, {}])
    net.route('POST /api/auth/login', () => [403, { error: { code: 'password_login_disabled', message: 'off' } }])
    mounted = await mountView(LoginView)
    await settle()
    await mounted.wrapper.find('input[name=username]').setValue('ada')
    await mounted.wrapper.find('input[name=password]').setValue('secret-pass')
    await mounted.wrapper.find('form').trigger('submit')
    await settle()
    expect(mounted.wrapper.find('[data-test=login-error]').text()).toContain('Password sign-in is turned off')
  })
})
