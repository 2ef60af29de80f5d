// Return for changes on the request page: the decider's Return (a comment is required), what the applicant
// sees of the request, the edit in place (only what changed is sent) and the resume.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ALICE, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'
import RequestDetailView from './RequestDetailView.vue'

const RETURNED = {
  id: 5,
  kind: 'acquire',
  state: 'returned',
  step: 2,
  steps_total: 2,
  required_role: null,
  version: 4,
  reason: 'For the new hire',
  name: 'Laptop',
  category: 'Laptop',
  value: '12000.00',
  currency: 'CNY',
  applicant: { id: 1, display_name: 'Alice' },
  asset: null,
  allowed_actions: ['withdraw', 'edit', 'resume', 'comment'],
  events: [
    { id: 1, action: 'submit', actor: { id: 1, display_name: 'Alice' }, step: 1, comment: '', at: '2026-12-01T09:00Z' },
    {
      id: 2,
      action: 'return',
      actor: { id: 9, display_name: 'Ada' },
      step: 2,
      comment: 'Attach the quote',
      at: '2026-12-01T10:00Z',
    },
  ],
  decisions: [],
  comments: [],
  steps: [],
}
let net
let mounted

beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  net = installFakeFetch({ 'GET /api/requests/5': () => [200, structuredClone(RETURNED)] })
})
afterEach(() => mounted?.wrapper.unmount())

async function open(locale = 'en') {
  mounted = await mountView(RequestDetailView, { props: { id: 5 }, locale })
  await settle()
  return mounted.wrapper
}

describe('a returned request, to its applicant', () => {
  it('shows what was asked, by whom, and offers edit and resume', async () => {
    const page = await open()
    expect(page.find('[data-test=detail-state] [data-state=returned]').text()).toBe('Returned for changes')
    expect(page.find('[data-test=return-asked]').text()).toContain('Ada returned this request for changes')
    expect(page.find('[data-test=return-comment]').text()).toBe('Attach the quote')
    expect(page.find('[data-test=return-asked]').text()).toContain('it goes back to step 2')
    expect(page.find('[data-test=resume]').exists() && page.find('[data-test=edit]').exists()).toBe(true)
  })

  it('says it in Chinese', async () => {
    const page = await open('zh-CN')
    expect(page.find('[data-state=returned]').text()).toBe('已退回修改')
    expect(page.find('[data-test=return-asked]').text()).toContain('Ada 退回了此申请，请修改')
  })

  it('edits in place, refuses a bad value before sending, and sends only what changed', async () => {
    net.route('PATCH /api/requests/5', () => [200, { ...RETURNED, value: '9000.00', version: 5 }])
    const page = await open()
    await page.find('[data-test=edit]').trigger('click')
    await settle()
    const value = page.find('[data-test=edit-form] input[data-edit=value]')
    expect(value.element.value).toBe('12000.00')
    await value.setValue('-3')
    await page.find('[data-test=edit-form] form').trigger('submit')
    await settle()
    expect(net.callsTo('PATCH /api/requests/5')).toHaveLength(0)
    await value.setValue('9000')
    await page.find('[data-test=edit-form] form').trigger('submit')
    await settle()
    expect(net.callsTo('PATCH /api/requests/5')[0].body).toEqual({ value: '9000', version: 4 })
    expect(page.find('[data-test=edit-form]').exists()).toBe(false)
  })

  it('shows a refused field under it and keeps the form open', async () => {
    net.route('PATCH /api/requests/5', () => [
      422,
      { error: { code: 'validation_error', message: 'no', details: { fields: { name: ['Not this one'] } } } },
    ])
    const page = await open()
    await page.find('[data-test=edit]').trigger('click')
    await settle()
    await page.find('[data-test=edit-form] input[data-edit=name]').setValue('Other')
    await page.find('[data-test=edit-form] form').trigger('submit')
    await settle()
    await new Promise((r) => setTimeout(r, 300)) // the error fades in
    expect(page.find('[data-test=edit-form] .el-form-item__error').text()).toBe('Not this one')
  })

  it('resumes on the version on screen', async () => {
    net.route('POST /api/requests/5/resume', () => [200, { ...RETURNED, state: 'pending' }])
    const page = await open()
    await page.find('[data-test=resume]').trigger('click')
    await settle()
    expect(net.callsTo('POST /api/requests/5/resume')[0].body).toEqual({ version: 4 })
  })
})

describe('the decider', () => {
  it('cannot return without saying what to change', async () => {
    const pending = { ...structuredClone(RETURNED), state: 'pending', allowed_actions: ['approve', 'reject', 'return'] }
    net.route('GET /api/requests/5', () => [200, pending])
    net.route('POST /api/requests/5/return', () => [200, { ...pending, state: 'returned' }])
    const page = await open()
    expect(page.find('[data-test=return-asked]').exists()).toBe(false)
    await page.find('[data-test=detail-return]').trigger('click')
    await settle()
    const dialog = document.querySelector('[data-test=decision-dialog]')
    expect(dialog.textContent).toContain('What should the applicant change?')
    dialog.querySelector('[data-test=decision-confirm]').click()
    await settle()
    expect(net.callsTo('POST /api/requests/5/return')).toHaveLength(0)
    const box = dialog.querySelector('textarea[data-test=decision-comment]')
    box.value = 'Which floor?'
    box.dispatchEvent(new Event('input'))
    await settle()
    dialog.querySelector('[data-test=decision-confirm]').click()
    await settle()
    expect(net.callsTo('POST /api/requests/5/return')[0].body).toEqual({ comment: 'Which floor?', version: 4 })
  })
})
