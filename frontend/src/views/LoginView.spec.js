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
