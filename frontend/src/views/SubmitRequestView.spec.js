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
  it('suggests the currency the app defaults to', async () => {
    await open('acquire')
    expect(mounted.wrapper.find('input[data-test=currency]').attributes('placeholder')).toBe('CNY')
  })

  it('offers for a transfer only the assets the employee holds', async () => {
    await open('transfer')
    const search = net.callsTo('GET /api/assets').at(-1)
    expect(search.query).toMatchObject({ status: 'in_use', custodian_id: String(ALICE.id) })
  })

  it('offers an admin every asset in use', async () => {
    await open('transfer', { ...ALICE, id: 9, role: 'admin' })
    const search = net.callsTo('GET /api/assets').at(-1)
    expect(search.query.status).toBe('in_use')
    expect(search.query.custodian_id).toBeUndefined()
  })
})
