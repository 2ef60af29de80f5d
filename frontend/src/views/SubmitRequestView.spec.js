import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import SubmitRequestView from './SubmitRequestView.vue'
import { ALICE, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

let net
let mounted

beforeEach(() => {
  localStorage.clear()
  net = installFakeFetch({
    'GET /api/assets': () => [200, { items: [], total: 0 }],
    'GET /api/users': () => [200, { items: [] }],
  })
})
afterEach(() => mounted?.wrapper.unmount())

async function open(kind, user = ALICE) {
  seedSession(user)
  mounted = await mountView(SubmitRequestView, { query: { kind } })
  await settle()
}

describe('submit form', () => {
  it('fills in the currency the app defaults to, as a real value', async () => {
    await open('acquire')
    expect(mounted.wrapper.find('input[data-test=currency]').element.value).toBe('CNY')
  })

  it('renders the fields of the kind from its spec', async () => {
    await open('acquire')
    const shown = mounted.wrapper.findAll('[data-test]').map((el) => el.attributes('data-test'))
    expect(shown).toEqual(expect.arrayContaining(['name', 'category', 'value', 'currency']))
    expect(shown).not.toContain('asset')
  })

  it('offers an employee for a disposal only what they hold, never stock', async () => {
    net.route('GET /api/assets', () => [
      200,
      {
        items: [
          { id: 5, tag: 'S-1', name: 'Stock', status: 'in_stock', custodian: null, locked: false },
          { id: 6, tag: 'M-1', name: 'Mine', status: 'in_use', custodian: { id: ALICE.id }, locked: false },
        ],
        total: 2,
      },
    ])
    await open('dispose')
    expect(net.callsTo('GET /api/assets').at(-1).query).toMatchObject({ custodian_id: String(ALICE.id) })
    const offered = mounted.wrapper.findComponent(SubmitRequestView).vm.assetOptions.map((a) => a.id)
    expect(offered).toEqual([6])
  })

  it('offers for a transfer only the assets the employee holds', async () => {
    await open('transfer')
    const search = net.callsTo('GET /api/assets').at(-1)
    expect(search.query).toMatchObject({ status: 'in_use', custodian_id: String(ALICE.id) })
    expect(mounted.wrapper.find('[data-test=target]').exists()).toBe(true)
  })

  it('offers an admin every asset in use', async () => {
    await open('transfer', { ...ALICE, id: 9, role: 'admin' })
    const search = net.callsTo('GET /api/assets').at(-1)
    expect(search.query.status).toBe('in_use')
    expect(search.query.custodian_id).toBeUndefined()
  })

  it('says a file is required when the server says the rule needs one, and sends nothing without one', async () => {
    net.route('GET /api/attachments/required', () => [200, { required: true }])
    net.route('POST /api/requests', () => [201, { id: 9 }])
    await open('acquire')
    await new Promise((resolve) => setTimeout(resolve, 350)) // the question waits for typing to pause
    await settle()
    expect(net.callsTo('GET /api/attachments/required').at(-1).query).toMatchObject({ kind: 'acquire' })
    const notice = mounted.wrapper.find('[data-test=attachments-required]')
    expect(notice.exists()).toBe(true)
    expect(notice.text()).toContain('Attachments required')
    const form = mounted.wrapper.find('[data-test=submit-form]')
    for (const [field, value] of [
      ['name', 'Desk'],
      ['category', 'Furniture'],
      ['value', '300.00'],
    ]) {
      await mounted.wrapper.find(`input[data-test=${field}]`).setValue(value)
    }
    await mounted.wrapper.find('textarea[data-test=reason]').setValue('Needed')
    await form.trigger('submit')
    await settle()
    // Said under the files (Element Plus renders the text in a transition the test stubs).
    expect(mounted.wrapper.find('[data-test=submit-files]').classes()).toContain('is-error')
    expect(net.callsTo('POST /api/requests')).toEqual([])
  })
})
