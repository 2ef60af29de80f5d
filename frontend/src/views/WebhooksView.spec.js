import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebhooksView from './WebhooksView.vue'
import { installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const ADMIN = { id: 5, username: 'admin', display_name: 'Ada Admin', role: 'admin' }
const EVENTS = ['request.submitted', 'request.approved', 'request.rejected']
const HOOK = {
  id: 1,
  url: 'https://erp.example.com/hook',
  events: ['request.approved'],
  active: true,
  created_at: '2026-11-27T09:00:00Z',
}
const DELIVERY = {
  id: 'd-1',
  event: 'webhook.ping',
  state: 'sent',
  attempts: 2,
  created_at: '2026-11-27T09:01:00Z',
  next_attempt_at: null,
  finished_at: '2026-11-27T09:01:31Z',
  last_error: '',
  calls: [
    { attempt: 1, status_code: null, duration_ms: 12, error: 'Connection refused', at: '2026-11-27T09:01:00Z' },
    { attempt: 2, status_code: 200, duration_ms: 35, error: '', at: '2026-11-27T09:01:31Z' },
  ],
}
const invalid = (fields) => [
  422,
  { error: { code: 'validation_error', message: 'Invalid input', details: { fields } } },
]

let net
let view

beforeEach(() => {
  localStorage.clear()
  seedSession(ADMIN)
  net = installFakeFetch({
    'GET /api/webhooks': () => [200, { items: [HOOK], events: EVENTS }],
    'POST /api/webhooks': (call) => [201, { id: 2, url: call.body.url, events: call.body.events, active: true }],
    'PATCH /api/webhooks/1': (call) => [200, { ...HOOK, ...call.body }],
    'POST /api/webhooks/1/ping': () => [202, { ...DELIVERY, state: 'pending', calls: [] }],
    'GET /api/webhooks/1/deliveries': () => [200, { items: [DELIVERY], page: 1, per_page: 10, total: 1 }],
  })
})
afterEach(() => view?.wrapper.unmount())

const find = (sel) => view.wrapper.find(sel)
const slideIn = () => new Promise((r) => setTimeout(r, 300))

async function openNew() {
  view = await mountView(WebhooksView)
  await settle()
  await find('[data-test=new-webhook]').trigger('click')
  await settle()
}

describe('webhook admin screen', () => {
  it('lists the webhooks with their events', async () => {
    view = await mountView(WebhooksView)
    await settle()
    const row = find('[data-webhook-id="1"]')
    expect(row.text()).toContain('https://erp.example.com/hook')
    expect(row.text()).toContain('request.approved')
  })

  it('registers one with a generated secret and shows that secret once', async () => {
    await openNew()
    await find('[data-test=webhook-url]').setValue('http://127.0.0.1:9/hook')
    await find('[data-event="request.submitted"] input').setValue(true)
    await find('[data-test=generate-secret]').trigger('click')
    await find('[data-test=webhook-form]').trigger('submit')
    await settle()
    const [post] = net.callsTo('POST /api/webhooks')
    expect(post.body.url).toBe('http://127.0.0.1:9/hook')
    expect(post.body.events).toEqual(['request.submitted'])
    expect(post.body.secret).toMatch(/^[0-9a-f]{64}$/)
    expect(find('[data-test=secret-value]').text()).toBe(post.body.secret)
    expect(find('[data-webhook-id="2"]').exists()).toBe(true)
  })

  it('sends nothing while the form breaks a rule, and says which', async () => {
    await openNew()
    await find('[data-test=webhook-url]').setValue('ftp://nope')
    await find('[data-test=webhook-form]').trigger('submit')
    await settle()
    await slideIn()
    expect(net.callsTo('POST /api/webhooks')).toHaveLength(0)
    const errors = view.wrapper.findAll('.el-form-item__error').map((e) => e.text())
    expect(errors).toEqual(['An http:// or https:// address', 'Choose at least one event', '16 to 200 characters'])
  })

  it('puts the server’s refusal under its field', async () => {
    net.route('POST /api/webhooks', () => invalid({ url: ['Not a valid URL.'] }))
    await openNew()
    await find('[data-test=webhook-url]').setValue('http://a/')
    await find('[data-event="request.approved"] input').setValue(true)
    await find('[data-test=generate-secret]').trigger('click')
    await find('[data-test=webhook-form]').trigger('submit')
    await settle()
    await slideIn()
    const item = find('[data-field=url]')
    expect(item.find('.el-form-item__error').text()).toBe('Not a valid URL.')
  })

  it('switches a webhook off with PATCH', async () => {
    view = await mountView(WebhooksView)
    await settle()
    await find('[data-test=webhook-active]').trigger('click')
    await settle()
    expect(net.callsTo('PATCH /api/webhooks/1').map((c) => c.body)).toEqual([{ active: false }])
    expect(find('[data-webhook-id="1"]').attributes('data-active')).toBe('false')
  })

  it('edits only what changed, keeping the secret when left empty', async () => {
    view = await mountView(WebhooksView)
    await settle()
    await find('[data-test=edit-webhook]').trigger('click')
    await settle()
    await find('[data-event="request.rejected"] input').setValue(true)
    await find('[data-test=webhook-form]').trigger('submit')
    await settle()
    expect(net.callsTo('PATCH /api/webhooks/1').map((c) => c.body)).toEqual([
      { events: ['request.approved', 'request.rejected'] },
    ])
  })

  it('sends a test and opens the log with each call’s status code and duration', async () => {
    view = await mountView(WebhooksView)
    await settle()
    await find('[data-test=ping-webhook]').trigger('click')
    await settle()
    expect(net.callsTo('POST /api/webhooks/1/ping')).toHaveLength(1)
    expect(net.callsTo('GET /api/webhooks/1/deliveries')[0].query).toEqual({ page: '1', per_page: '10' })
    const delivery = find('[data-delivery-id=d-1]')
    expect(delivery.attributes('data-state')).toBe('sent')
    const calls = delivery.findAll('[data-test=delivery-call]').map((c) => c.text())
    expect(calls[0]).toContain('no answer')
    expect(calls[0]).toContain('Connection refused')
    expect(calls[1]).toContain('200')
    expect(calls[1]).toContain('35 ms')
  })
})
