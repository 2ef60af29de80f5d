import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import EmailActionView from './EmailActionView.vue'
import { BOB, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const REQUEST = {
  id: 7,
  kind: 'assign',
  state: 'pending',
  step: 1,
  steps_total: 1,
  reason: 'For the design work',
  asset_tag: 'AST-001011',
  applicant: 'Alice Employee',
}
const PREVIEW = { action: 'approve', user: 'Bob Approver', request: REQUEST }
const unusable = (details) => [409, { error: { code: 'link_unusable', message: 'no', details } }]

let net
let view

beforeEach(() => {
  localStorage.clear()
  net = installFakeFetch({
    'POST /api/email-actions/preview': () => [200, PREVIEW],
    'POST /api/email-actions/confirm': () => [200, { ...PREVIEW, request: { ...REQUEST, state: 'approved' } }],
  })
})
afterEach(() => view?.wrapper.unmount())

async function open(query = { token: 'tok-1' }, locale = 'en') {
  view = await mountView(EmailActionView, { query, locale })
  await settle()
  return view.wrapper
}

describe('e-mail link confirmation', () => {
  it('only previews on load, signed out: no confirm and no bearer token', async () => {
    const page = await open()
    expect(net.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /api/email-actions/preview'])
    expect(net.calls[0].body).toEqual({ token: 'tok-1' })
    expect(net.calls[0].headers.Authorization).toBeUndefined()
    expect(page.find('h1').text()).toBe('Approve request #7?')
    expect(page.text()).toContain('Acting as Bob Approver')
    expect(page.text()).toContain('AST-001011')
  })

  it('confirms with the token and shows the request as the decision left it', async () => {
    seedSession(BOB) // signed in works the same: the token is the credential
    const page = await open()
    await page.find('[data-test=email-action-form]').trigger('submit')
    await settle()
    expect(net.callsTo('POST /api/email-actions/confirm').map((c) => c.body)).toEqual([{ token: 'tok-1' }])
    expect(page.find('h1').text()).toBe('You approved request #7')
    expect(page.find('[data-test=request-state]').attributes('data-state')).toBe('approved')
    expect(page.find('[data-test=confirm-action]').exists()).toBe(false)
  })

  it('asks a rejection for a comment before sending anything', async () => {
    net.route('POST /api/email-actions/preview', () => [200, { ...PREVIEW, action: 'reject' }])
    const page = await open()
    await page.find('[data-test=email-action-form]').trigger('submit')
    await settle()
    expect(net.callsTo('POST /api/email-actions/confirm')).toHaveLength(0)
    await page.find('textarea').setValue('Not in the budget')
    await page.find('[data-test=email-action-form]').trigger('submit')
    await settle()
    expect(net.callsTo('POST /api/email-actions/confirm').map((c) => c.body)).toEqual([
      { token: 'tok-1', comment: 'Not in the budget' },
    ])
  })

  it('says a used link was used, with a link to the request, in Chinese too', async () => {
    net.route('POST /api/email-actions/preview', () => unusable({ reason: 'used', request_id: 7 }))
    const page = await open({ token: 'tok-1' }, 'zh-CN')
    expect(page.find('[data-test=link-problem]').attributes('data-reason')).toBe('used')
    expect(page.find('h1').text()).toBe('此链接已被使用')
    expect(page.find('[data-test=open-request]').attributes('href')).toContain('/request/7')
    expect(page.find('[data-test=load-error]').exists()).toBe(false)
  })

  it('names the state a changed request is in now', async () => {
    net.route('POST /api/email-actions/preview', () => unusable({ reason: 'stale', request_id: 7, state: 'approved' }))
    const page = await open()
    expect(page.text()).toContain('is now “Approved”')
  })

  it('turns a confirm refused as used (someone was first) into the used page', async () => {
    net.route('POST /api/email-actions/confirm', () => unusable({ reason: 'used', request_id: 7 }))
    const page = await open()
    await page.find('[data-test=email-action-form]').trigger('submit')
    await settle()
    expect(page.find('[data-test=link-problem]').attributes('data-reason')).toBe('used')
  })

  it('calls a link without a token invalid without asking the server', async () => {
    const page = await open({})
    expect(net.calls).toHaveLength(0)
    expect(page.find('[data-test=link-problem]').attributes('data-reason')).toBe('invalid')
  })
})
