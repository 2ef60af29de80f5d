import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import DelegationsView from './DelegationsView.vue'
import { BOB, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'

const HOUR = 3_600_000
const iso = (offset) => new Date(Date.now() + offset).toISOString()
const ERIK = { id: 5, display_name: 'Erik' }
const ITEMS = [
  {
    id: 1,
    delegator: { id: BOB.id, display_name: BOB.display_name },
    delegate: ERIK,
    starts_at: iso(-HOUR),
    ends_at: iso(HOUR),
    note: 'Holiday',
    active: true,
  },
  {
    id: 2,
    delegator: ERIK,
    delegate: { id: BOB.id, display_name: BOB.display_name },
    starts_at: iso(HOUR),
    ends_at: iso(2 * HOUR),
    note: '',
    active: false,
  },
]
let net
let mounted

beforeEach(() => {
  localStorage.clear()
  seedSession(BOB)
  net = installFakeFetch({
    'GET /api/delegations': () => [200, { items: ITEMS }],
    'GET /api/users': () => [200, { items: [{ id: 5, username: 'erik', display_name: 'Erik', active: true }] }],
  })
})
afterEach(() => {
  mounted?.wrapper.unmount()
  document.body.innerHTML = ''
})

describe('delegations screen', () => {
  it('splits mine into given and received, marks the active one, and deletes only what I gave', async () => {
    mounted = await mountView(DelegationsView)
    await settle()
    const given = mounted.wrapper.find('[data-section=given]')
    const received = mounted.wrapper.find('[data-section=received]')
    expect(given.find('[data-delegation-state="1"]').attributes('data-state')).toBe('active')
    expect(given.text()).toContain('Erik')
    expect(received.find('[data-delegation-state="2"]').attributes('data-state')).toBe('upcoming')
    expect(given.find('[data-delete-delegation="1"]').exists()).toBe(true)
    expect(received.find('[data-delete-delegation="2"]').exists()).toBe(false)
  })

  it('asks for the delegate before sending anything', async () => {
    net.route('POST /api/delegations', (c) => [201, { id: 3, ...c.body, delegate: ERIK }])
    mounted = await mountView(DelegationsView)
    await settle()
    await mounted.wrapper.find('[data-test=delegation-new]').trigger('click')
    await settle()
    const dialog = document.querySelector('[data-test=delegation-dialog]')
    dialog.querySelector('form').dispatchEvent(new Event('submit'))
    await settle()
    await new Promise((r) => setTimeout(r, 300))
    const shown = [...dialog.querySelectorAll('.el-form-item__error')].map((e) => e.textContent.trim())
    expect(shown).toEqual(['Required'])
    expect(net.callsTo('POST /api/delegations')).toHaveLength(0)
  })
})
