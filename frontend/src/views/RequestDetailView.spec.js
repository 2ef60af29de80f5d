// The request page of wave 2: the chain by name, the comment thread, resubmit and its links.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ALICE, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const box = vi.hoisted(() => ({ prompt: null }))
vi.mock('element-plus', async (original) => ({
  ...(await original()),
  ElMessageBox: { prompt: (...args) => box.prompt(...args), confirm: () => Promise.resolve() },
}))
const { default: RequestDetailView } = await import('./RequestDetailView.vue')
const { useRequestsStore } = await import('@/stores/requests')

const REQUEST = {
  id: 5,
  kind: 'assign',
  state: 'pending',
  step: 2,
  steps_total: 2,
  required_role: 'approver',
  reason: 'For the new desk',
  applicant: { id: 1, display_name: 'Alice' },
  department: { id: 3, name: 'Sales' },
  previous_id: 2,
  next_ids: [],
  asset: { id: 11, tag: 'AST-1', name: 'Monitor' },
  allowed_actions: ['withdraw', 'comment'],
  events: [],
  decisions: [],
  comments: [{ id: 1, author: { id: 3, display_name: 'Bob' }, body: 'Which size?', at: '2026-11-27T09:00:00Z' }],
  steps: [
    {
      step: 1,
      decider: 'manager',
      role: null,
      scope: 'department',
      label: 'manager',
      state: 'done',
      deciders: [{ id: 6, display_name: 'Sara Manager', via: 'rule', active: true }],
      decided_by: { id: 7, display_name: 'Carol', on_behalf_of: { id: 6, display_name: 'Sara Manager' } },
      escalated_at: null,
    },
    {
      step: 2,
      decider: 'role',
      role: 'approver',
      scope: 'department',
      label: 'approver',
      state: 'current',
      deciders: [
        { id: 7, display_name: 'Carol', via: 'rule', active: true },
        { id: 9, display_name: 'Ada Admin', via: 'escalation', active: true },
      ],
      decided_by: null,
      escalated_at: '2026-11-27T08:00:00Z',
    },
  ],
}
let net
let mounted

beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  net = installFakeFetch({ 'GET /api/requests/5': () => [200, structuredClone(REQUEST)] })
})
afterEach(() => mounted?.wrapper.unmount())

async function open(locale = 'en') {
  mounted = await mountView(RequestDetailView, { props: { id: 5 }, locale })
  await settle()
  return mounted.wrapper
}

describe('request page: the chain', () => {
  it('shows each step, who decides it by name, its state, and a decision made on behalf', async () => {
    const page = await open()
    const [first, second] = page.findAll('[data-test=chain] [data-step]')
    expect(first.attributes('data-step-state')).toBe('done')
    expect(first.text()).toContain('The applicant’s manager')
    expect(first.find('[data-test=decided-by]').text()).toBe('Decision by Carol on behalf of Sara Manager')
    expect(second.attributes('aria-current')).toBe('step')
    expect(second.text()).toContain('Approver, in the department')
    expect(second.find('[data-decider="9"]').text()).toBe('Ada Admin (escalation)')
    expect(second.find('[data-test=escalated]').exists()).toBe(true)
    expect(page.find('[data-test=previous-request]').text()).toBe('Resubmission of #2')
  })

  it('says it in Chinese', async () => {
    const page = await open('zh-CN')
    expect(page.find('[data-step="1"]').text()).toContain('申请人的部门经理')
    expect(page.find('[data-step="1"] [data-test=decided-by]').text()).toBe('由 Carol（代 Sara Manager） 审批')
  })
})

describe('request page: comments', () => {
  it('posts a comment, shows it once, and takes a live one from someone else', async () => {
    net.route('POST /api/requests/5/comments', (c) => [
      201,
      { id: 2, author: { id: 1, display_name: 'Alice' }, body: c.body.body, at: '2026-11-27T09:01:00Z' },
    ])
    const page = await open()
    await page.find('[data-test=comment-form]').trigger('submit')
    await settle()
    expect(net.callsTo('POST /api/requests/5/comments')).toHaveLength(0)
    await new Promise((r) => setTimeout(r, 300)) // the error fades in
    expect(page.find('[data-test=comment-form] .el-form-item__error').text()).toBe('Required')
    await page.find('textarea[data-test=comment-body]').setValue('  27 inch, please ')
    await page.find('[data-test=comment-form]').trigger('submit')
    await settle()
    expect(net.callsTo('POST /api/requests/5/comments')[0].body).toEqual({ body: '27 inch, please' })
    useRequestsStore().applyComment({
      request_id: 5,
      comment_id: 3,
      actor: { id: 3, name: 'Bob' },
      body: 'Fine',
      at: '2026-11-27T09:02:00Z',
    })
    await settle()
    const bodies = page.findAll('[data-comment-id] .body').map((b) => b.text())
    expect(bodies).toEqual(['Which size?', '27 inch, please', 'Fine'])
    expect(page.find('textarea[data-test=comment-body]').element.value).toBe('')
  })

  it('offers no comment box to someone the server does not allow', async () => {
    net.route('GET /api/requests/5', () => [200, { ...structuredClone(REQUEST), allowed_actions: [] }])
    const page = await open()
    expect(page.find('[data-test=comment-form]').exists()).toBe(false)
    expect(page.findAll('[data-comment-id]')).toHaveLength(1)
  })
})

describe('request page: resubmit', () => {
  it('offers resubmit when allowed, posts the edited reason and opens the new request', async () => {
    net.route('GET /api/requests/5', () => [
      200,
      { ...structuredClone(REQUEST), state: 'rejected', allowed_actions: ['resubmit', 'comment'], next_ids: [] },
    ])
    net.route('POST /api/requests/5/resubmit', () => [201, { id: 8, previous_id: 5, state: 'pending' }])
    box.prompt = vi.fn(async () => ({ value: 'Now with a quote attached' }))
    const page = await open()
    await page.find('[data-test=resubmit]').trigger('click')
    await settle()
    expect(box.prompt.mock.calls[0][2].inputValue).toBe('For the new desk')
    expect(net.callsTo('POST /api/requests/5/resubmit')[0].body).toEqual({ reason: 'Now with a quote attached' })
    expect(mounted.router.currentRoute.value).toMatchObject({ name: 'request', params: { id: '8' } })
  })

  it('has no resubmit button when the server does not allow it, and links the resubmissions', async () => {
    net.route('GET /api/requests/5', () => [200, { ...structuredClone(REQUEST), next_ids: [8] }])
    const page = await open()
    expect(page.find('[data-test=resubmit]').exists()).toBe(false)
    expect(page.find('[data-next-request="8"]').text()).toBe('Resubmitted as #8')
  })
})
