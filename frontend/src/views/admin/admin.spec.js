// The organisation's admin screens against the HTTP contract: the tree, the users, the rules.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const box = vi.hoisted(() => ({ confirm: null }))
vi.mock('element-plus', async (original) => ({
  ...(await original()),
  ElMessageBox: { confirm: (...args) => box.confirm(...args) },
}))
const { default: DepartmentsView } = await import('./DepartmentsView.vue')
const { default: UsersView } = await import('./UsersView.vue')
const { default: RulesView } = await import('./RulesView.vue')

const ADMIN = { id: 9, username: 'admin', display_name: 'Ada Admin', role: 'admin' }
const DEPARTMENTS = [
  {
    id: 1,
    name: 'Company',
    code: 'HQ',
    parent_id: null,
    manager: { id: 9, display_name: 'Ada Admin' },
    path: ['Company'],
  },
  { id: 2, name: 'Sales', code: 'SALES', parent_id: 1, manager: null, path: ['Company', 'Sales'] },
]
const DAVE = {
  id: 4,
  username: 'dave',
  display_name: 'Dave',
  email: '',
  role: 'employee',
  active: true,
  department: { id: 2, name: 'Sales' },
}
const SIMULATION = {
  rule: { index: 1, match: {} },
  steps: [{ step: 1, decider: 'role', role: 'approver', scope: 'company', label: 'approver', people: [] }],
  problems: [],
  applicant: null,
  department: { id: 2, name: 'Sales' },
}
const STUCK = {
  department: { id: 1, code: 'HQ', name: 'Company' },
  members: 3,
  problems: [
    { kinds: ['acquire', 'assign', 'transfer', 'repair', 'dispose'], rule: 0, step: 1, label: 'approver' },
    { kinds: ['dispose'], rule: null, step: null, label: null },
  ],
}
const wait = (ms = 300) => new Promise((r) => setTimeout(r, ms))
const errors = (w) => w.findAll('.el-form-item__error').map((e) => e.text())
let net
let mounted

beforeEach(() => {
  localStorage.clear()
  seedSession(ADMIN)
  net = installFakeFetch({
    'GET /api/departments': () => [200, { items: DEPARTMENTS }],
    'GET /api/users': () => [200, { items: [DAVE], total: 1 }],
    'GET /api/assets/categories': () => [200, { items: ['Laptop'] }],
    'GET /api/approval-rules/changes': () => [200, { items: [] }],
    'GET /api/routing-check': () => [200, { items: [], departments_checked: 2 }],
    'POST /api/approval-rules/simulate': () => [200, SIMULATION],
  })
})
afterEach(() => {
  mounted?.wrapper.unmount()
  document.body.innerHTML = ''
})

describe('departments screen', () => {
  it('shows the tree indented by depth, with each manager', async () => {
    mounted = await mountView(DepartmentsView)
    await settle()
    const nodes = mounted.wrapper.findAll('[data-department-id]')
    expect(nodes.map((n) => n.attributes('data-code'))).toEqual(['HQ', 'SALES'])
    expect(nodes[1].classes()).toContain('depth-1')
    expect(nodes[0].text()).toContain('Manager: Ada Admin')
  })

  it('creates a department and shows a taken code under the code field', async () => {
    net.route('POST /api/departments', () => [
      409,
      { error: { code: 'conflict', message: 'The code FIN is taken', details: {} } },
    ])
    mounted = await mountView(DepartmentsView)
    await settle()
    await mounted.wrapper.find('[data-test=department-new]').trigger('click')
    await settle()
    const dialog = document.querySelector('[data-test=department-dialog]')
    const input = (name) => dialog.querySelector(`input[data-test=department-${name}]`)
    input('name').value = 'Finance'
    input('name').dispatchEvent(new Event('input'))
    input('code').value = 'fin'
    input('code').dispatchEvent(new Event('input'))
    await settle()
    dialog.querySelector('form').dispatchEvent(new Event('submit'))
    await settle()
    await wait()
    expect(net.callsTo('POST /api/departments')[0].body).toEqual({ name: 'Finance', code: 'FIN', parent_id: 1 })
    expect(dialog.querySelector('[data-field=code] .el-form-item__error').textContent.trim()).toBe(
      'The code FIN is taken',
    )
  })
})

describe('routing check', () => {
  it('lists each department nobody could decide for, why, and links to its people', async () => {
    net.route('GET /api/routing-check', () => [200, { items: [STUCK], departments_checked: 2 }])
    mounted = await mountView(DepartmentsView)
    await settle()
    const item = mounted.wrapper.find('[data-test=routing-check] [data-stuck-department=HQ]')
    expect(item.text()).toContain('3 active people')
    expect(item.findAll('[data-test=routing-reason]').map((r) => r.text())).toEqual([
      'Every kind: rule 1, step 1 (an approver) has nobody who could decide it',
      'Dispose: no approval rule applies to some of these requests (another category or a lower value)',
    ])
    expect(item.find('[data-test=routing-people]').attributes('href')).toContain('department_id=1')
  })

  it('shows nothing when every request can be decided', async () => {
    mounted = await mountView(UsersView)
    await settle()
    expect(net.callsTo('GET /api/routing-check')).toHaveLength(1)
    expect(mounted.wrapper.find('[data-test=routing-check]').exists()).toBe(false)
  })
})

describe('users screen', () => {
  it('makes the department of a new user a choice: nothing is sent without one', async () => {
    net.route('POST /api/users', (c) => [201, { ...DAVE, id: 5, username: c.body.username }])
    mounted = await mountView(UsersView)
    await settle()
    await mounted.wrapper.find('[data-test=user-new]').trigger('click')
    await settle()
    const dialog = document.querySelector('[data-test=user-dialog]')
    for (const [name, value] of [
      ['username', 'erin'],
      ['password', 'correct horse'],
    ]) {
      const input = dialog.querySelector(`input[data-test=user-${name}]`)
      input.value = value
      input.dispatchEvent(new Event('input'))
    }
    await settle()
    dialog.querySelector('form').dispatchEvent(new Event('submit'))
    await settle()
    await wait()
    expect(net.callsTo('POST /api/users')).toHaveLength(0)
    expect(dialog.querySelector('[data-field=department_id] .el-form-item__error').textContent.trim()).toBe('Required')
  })

  it('filters by role, department and active through the URL', async () => {
    mounted = await mountView(UsersView, { query: { role: 'approver', department_id: '2', active: 'false' } })
    await settle()
    expect(net.callsTo('GET /api/users')[0].query).toMatchObject({
      role: 'approver',
      department_id: '2',
      active: 'false',
    })
    expect(mounted.wrapper.find('[data-user-department="4"]').text()).toBe('Sales')
  })

  it('asks before deactivating, saying the sessions end at once, and sends nothing when cancelled', async () => {
    net.route('PATCH /api/users/4', (c) => [200, { ...DAVE, ...c.body }])
    mounted = await mountView(UsersView)
    await settle()
    await mounted.wrapper.find('[data-edit-user="4"]').trigger('click')
    await settle()
    const dialog = document.querySelector('[data-test=user-dialog]')
    dialog.querySelector('[data-test=user-active] input').click()
    await settle()
    box.confirm = vi.fn(() => Promise.reject(new Error('cancel')))
    dialog.querySelector('form').dispatchEvent(new Event('submit'))
    await settle()
    expect(box.confirm.mock.calls[0][0]).toContain('Their sessions end at once')
    expect(net.callsTo('PATCH /api/users/4')).toHaveLength(0)
    box.confirm = vi.fn(() => Promise.resolve())
    dialog.querySelector('form').dispatchEvent(new Event('submit'))
    await settle()
    expect(net.callsTo('PATCH /api/users/4')[0].body).toEqual({ active: false })
    expect(mounted.wrapper.find('[data-user-active="4"]').text()).toBe('Inactive')
  })
})

// The editor is a few dozen Element Plus selects (and the draft's trial panel): a mount takes seconds in
// happy-dom on a busy machine.
describe('approval rules screen', { timeout: 60_000 }, () => {
  const RULES = {
    items: [
      { match: { kinds: ['dispose'] }, steps: [{ decider: 'role', role: 'approver', scope: 'company' }] },
      { match: {}, steps: [{ decider: 'role', role: 'approver', scope: 'company' }] },
    ],
    default: true,
    updated_at: null,
    updated_by: null,
  }

  async function open() {
    net.route('GET /api/approval-rules', () => [200, structuredClone(RULES)])
    mounted = await mountView(RulesView, { asRoute: 'admin-rules' })
    await settle()
    return mounted.wrapper
  }

  it('says when the server is using the default rules', async () => {
    const page = await open()
    expect(page.find('[data-test=rules-default]').exists()).toBe(true)
    expect(page.findAll('[data-rule]')).toHaveLength(2)
  })

  it('checks obvious mistakes before sending', async () => {
    const page = await open()
    await page.find('[data-rule="0"] input[data-test=rule-min-value]').setValue('12.345')
    await page.find('[data-test=rules-save]').trigger('click')
    await settle()
    await wait()
    expect(net.callsTo('PUT /api/approval-rules')).toHaveLength(0)
    expect(errors(page.find('[data-rule="0"]'))).toEqual(['A positive amount with at most 2 decimals'])
  })

  it('moves a rule and saves the ordered list with PUT', async () => {
    net.route('PUT /api/approval-rules', (c) => [200, { ...RULES, items: c.body.items, default: false }])
    const page = await open()
    await page.find('[data-rule="1"] [data-test=rule-up]').trigger('click')
    await page.find('[data-test=rules-save]').trigger('click')
    await settle()
    const sent = net.callsTo('PUT /api/approval-rules')[0].body.items
    expect(sent.map((r) => r.match)).toEqual([{}, { kinds: ['dispose'] }])
    expect(page.find('[data-test=rules-default]').exists()).toBe(false)
  })

  it('shows the server’s 422 next to the field its key names', async () => {
    net.route('PUT /api/approval-rules', () => [
      422,
      {
        error: {
          code: 'validation_failed',
          message: 'Invalid rules',
          details: { fields: { 'items.1.steps.0.role': ['Nobody holds this role'], 'items.7': ['Odd'] } },
        },
      },
    ])
    const page = await open()
    await page.find('[data-test=rules-save]').trigger('click')
    await settle()
    await wait()
    expect(errors(page.find('[data-rule="1"]'))).toEqual(['Nobody holds this role'])
    expect(errors(page.find('[data-rule="0"]'))).toEqual([])
    expect(page.find('[data-test=rules-error]').text()).toContain('Odd')
  })

  it('asks before leaving with unsaved edits, and stays when told to', async () => {
    const page = await open()
    box.confirm = vi.fn(() => Promise.resolve())
    await mounted.router.push({ name: 'admin-users' })
    expect(box.confirm).not.toHaveBeenCalled() // nothing edited: no question
    await mounted.router.push({ name: 'admin-rules' })
    await settle()
    await page.find('[data-rule="0"] input[data-test=rule-min-value]').setValue('500')
    box.confirm = vi.fn(() => Promise.reject(new Error('cancel')))
    await mounted.router.push({ name: 'admin-users' })
    expect(box.confirm).toHaveBeenCalledOnce()
    expect(mounted.router.currentRoute.value.name).toBe('admin-rules')
  })

  it('tries the draft and shows the simulator’s warnings on the rule they are about', async () => {
    net.route('POST /api/approval-rules/simulate', () => [
      200,
      {
        ...SIMULATION,
        problems: [
          { code: 'shadowed', rule: 1, by: 0 },
          { code: 'nobody', rule: 0, step: 1, label: 'approver', departments: [{ id: 1, name: 'Company' }] },
        ],
      },
    ])
    const page = await open()
    await wait(600) // the simulator is asked after a pause in the editing
    await settle()
    const sent = net.callsTo('POST /api/approval-rules/simulate').at(-1).body
    expect(sent).toEqual({ kind: 'acquire', rules: RULES.items })
    expect(page.find('[data-test=trial-rule]').text()).toContain('Rule 2 matches')
    expect(page.find('[data-trial-step="1"]').text()).toContain('nobody could decide it')
    expect(page.findAll('[data-rule="1"] [data-test=rule-warning]').map((w) => w.text())).toEqual([
      'This rule can never match: rule 1 above it takes every request it would.',
    ])
    expect(page.find('[data-rule="0"] [data-test=rule-warning]').text()).toContain(
      'Step 1 (an approver) has nobody who could decide it for requests from: Company.',
    )
  })

  it('says it in Chinese', async () => {
    net.route('GET /api/approval-rules', () => [200, structuredClone(RULES)])
    mounted = await mountView(RulesView, { locale: 'zh-CN', asRoute: 'admin-rules' })
    await settle()
    expect(mounted.wrapper.find('h1').text()).toBe('审批规则')
    expect(mounted.wrapper.find('[data-rule="0"]').text()).toContain('规则 1')
  })
})
