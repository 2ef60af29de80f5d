import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import DashboardView from './DashboardView.vue'
import { BOB, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const STATS = { counts: { pending: 0 }, median_decision_seconds: null }
const EMPTY = 'Nothing is waiting for you.'
let net
let view

beforeEach(() => {
  localStorage.clear()
  seedSession(BOB)
  net = installFakeFetch({ 'GET /api/requests/stats': () => [200, STATS] })
})
afterEach(() => view?.wrapper.unmount())

describe('dashboard states', () => {
  it('shows a skeleton, not "nothing waiting", while the queue loads', async () => {
    net.route('GET /api/requests', () => new Promise(() => {}))
    view = await mountView(DashboardView)
    await settle()
    expect(view.wrapper.find('[data-test=loading]').exists()).toBe(true)
    expect(view.wrapper.text()).not.toContain(EMPTY)
  })

  it('shows an error with a retry when the inbox fails, and the queue after the retry', async () => {
    let fail = true
    net.route('GET /api/requests', () =>
      fail
        ? [500, { error: { code: 'internal_error', message: 'Internal server error' } }]
        : [
            200,
            {
              items: [{ id: 5, kind: 'assign', state: 'pending', step: 1, steps_total: 1, asset: { tag: 'AST-1' } }],
              total: 1,
            },
          ],
    )
    view = await mountView(DashboardView)
    await settle()
    expect(view.wrapper.find('[data-test=load-error]').exists()).toBe(true)
    expect(view.wrapper.text()).not.toContain(EMPTY)
    fail = false
    await view.wrapper.find('[data-test=retry]').trigger('click')
    await settle()
    expect(view.wrapper.find('[data-test=load-error]').exists()).toBe(false)
    expect(view.wrapper.find('[data-inbox-id="5"]').exists()).toBe(true)
  })

  it('says "nothing waiting" only when the server says the queue is empty', async () => {
    net.route('GET /api/requests', () => [200, { items: [], total: 0 }])
    view = await mountView(DashboardView)
    await settle()
    expect(view.wrapper.find('[data-test=empty]').text()).toContain(EMPTY)
  })

  it('filters the queue by department, from the URL, and offers the departments by path', async () => {
    net.route('GET /api/requests', () => [200, { items: [], total: 0 }])
    net.route('GET /api/departments', () => [
      200,
      { items: [{ id: 3, name: 'Sales', code: 'SALES', parent_id: 1, manager: null, path: ['Company', 'Sales'] }] },
    ])
    view = await mountView(DashboardView, { query: { department_id: '3' } })
    await settle()
    expect(net.callsTo('GET /api/requests')[0].query).toMatchObject({ scope: 'inbox', department_id: '3' })
    expect(net.callsTo('GET /api/departments')).toHaveLength(1)
    expect(view.wrapper.find('[data-test=department-filter]').text()).toContain('Company / Sales')
  })

  it('sorts by due time and filters the overdue from the URL, and decides with the request in view', async () => {
    const row = {
      id: 9,
      kind: 'repair',
      state: 'pending',
      step: 1,
      steps_total: 2,
      reason: 'The hinge is loose',
      asset: { id: 4, tag: 'AST-4', name: 'MacBook Pro', value: '12000.00', currency: 'CNY' },
      applicant: { id: 1, display_name: 'Alice Chen' },
      department: { id: 2, name: 'Engineering' },
      due_at: new Date(Date.now() - 3600_000).toISOString(),
      overdue: true,
      allowed_actions: ['approve', 'reject', 'comment'],
    }
    net.route('GET /api/requests', () => [200, { items: [row], total: 1 }])
    view = await mountView(DashboardView, { query: { sort: 'due', overdue: 'true' } })
    await settle()
    expect(net.callsTo('GET /api/requests')[0].query).toMatchObject({ scope: 'inbox', sort: 'due', overdue: 'true' })
    expect(view.wrapper.find('[data-test=due-time]').attributes('data-overdue')).toBe('true')
    expect(view.wrapper.find('[data-asset="9"]').text()).toBe('MacBook Pro')
    await view.wrapper.find('[data-approve="9"]').trigger('click')
    await settle()
    const context = document.body.querySelector('[data-test=decision-dialog] [data-test=decision-context]')
    expect(context.getAttribute('data-request')).toBe('9')
    expect(context.querySelector('[data-field=applicant]').textContent).toContain('Alice Chen · Engineering')
    expect(context.querySelector('[data-field=due]').textContent).toContain('Overdue')
  })
})
