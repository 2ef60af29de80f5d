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
})
