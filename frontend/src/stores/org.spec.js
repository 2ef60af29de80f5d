// The organisation's stores against the HTTP contract (docs/api.md, issue 10's shared design).
import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useDelegationsStore } from './delegations'
import { useDepartmentsStore } from './departments'
import { useRulesStore } from './rules'
import { useUsersStore } from './users'
import { installFakeFetch, seedSession } from '@/testing/fakeFetch'

const ADMIN = { id: 9, username: 'admin', display_name: 'Ada Admin', role: 'admin' }
const DEPARTMENTS = [
  { id: 1, name: 'Company', code: 'HQ', parent_id: null, manager: null, path: ['Company'] },
  {
    id: 2,
    name: 'Engineering',
    code: 'ENG',
    parent_id: 1,
    manager: { id: 5, display_name: 'Erik' },
    path: ['Company', 'Engineering'],
  },
  { id: 4, name: 'Platform', code: 'PLAT', parent_id: 2, manager: null, path: ['Company', 'Engineering', 'Platform'] },
  { id: 3, name: 'Sales', code: 'SALES', parent_id: 1, manager: null, path: ['Company', 'Sales'] },
]
let net

beforeEach(() => {
  localStorage.clear()
  seedSession(ADMIN)
  setActivePinia(createPinia())
  net = installFakeFetch({
    'GET /api/departments': () => [200, { items: DEPARTMENTS }],
    'POST /api/departments': (c) => [201, { id: 7, ...c.body }],
    'PATCH /api/departments/3': (c) => [200, { ...DEPARTMENTS[3], ...c.body }],
  })
})

describe('departments store', () => {
  it('loads once for the filters, shares a request, and labels by path', async () => {
    const store = useDepartmentsStore()
    await Promise.all([store.ensure(), store.ensure()])
    await store.ensure()
    expect(net.callsTo('GET /api/departments')).toHaveLength(1)
    expect(store.label(store.byId.get(4))).toBe('Company / Engineering / Platform')
  })

  it('knows which parents would make a cycle', async () => {
    const store = useDepartmentsStore()
    await store.load()
    expect([...store.subtree(2)].sort()).toEqual([2, 4])
    expect([...store.subtree(3)]).toEqual([3])
  })

  it('creates and edits, then reloads the tree', async () => {
    const store = useDepartmentsStore()
    await store.create({ name: 'Finance', code: 'FIN', parent_id: 1 })
    await store.update(3, { manager_id: 6 })
    expect(net.callsTo('POST /api/departments')[0].body).toEqual({ name: 'Finance', code: 'FIN', parent_id: 1 })
    expect(net.callsTo('PATCH /api/departments/3')[0].body).toEqual({ manager_id: 6 })
    expect(net.callsTo('GET /api/departments')).toHaveLength(2)
  })
})

describe('users store', () => {
  const USER = {
    id: 4,
    username: 'dave',
    display_name: 'Dave',
    role: 'employee',
    active: true,
    department: { id: 3, name: 'Sales' },
  }

  it('lists with the filters from the URL and patches the row with the answer', async () => {
    net.route('GET /api/users', () => [200, { items: [USER], total: 1 }])
    net.route('PATCH /api/users/4', (c) => [200, { ...USER, ...c.body, department: { id: 2, name: 'Engineering' } }])
    const store = useUsersStore()
    await store.fetchList({ q: 'da', role: 'employee', department_id: '3', active: 'true', page: 1, per_page: 20 })
    expect(net.callsTo('GET /api/users')[0].query).toEqual({
      q: 'da',
      role: 'employee',
      department_id: '3',
      active: 'true',
      page: '1',
      per_page: '20',
    })
    await store.update(4, { department_id: 2 })
    expect(store.list.items[0].department.name).toBe('Engineering')
  })

  it('offers only active users in a picker', async () => {
    net.route('GET /api/users', () => [200, { items: [USER, { ...USER, id: 5, active: false }] }])
    const found = await useUsersStore().search('da')
    expect(found.map((u) => u.id)).toEqual([4])
    expect(net.callsTo('GET /api/users')[0].query).toEqual({ q: 'da' })
  })
})

describe('delegations store', () => {
  it('lists mine or, for an admin, everyone’s; creates and deletes', async () => {
    const D = { id: 1, delegator: { id: 9 }, delegate: { id: 3 }, starts_at: 'a', ends_at: 'b', active: true }
    net.route('GET /api/delegations', () => [200, { items: [D] }])
    net.route('POST /api/delegations', (c) => [201, { id: 2, ...c.body }])
    net.route('DELETE /api/delegations/1', () => [204])
    const store = useDelegationsStore()
    await store.load()
    await store.load(true)
    expect(net.callsTo('GET /api/delegations').map((c) => c.query)).toEqual([{}, { all: '1' }])
    await store.create({ delegate_id: 3, starts_at: 'x', ends_at: 'y' })
    expect(net.callsTo('GET /api/delegations').at(-1).query).toEqual({ all: '1' })
    await store.remove(1)
    expect(net.callsTo('DELETE /api/delegations/1')).toHaveLength(1)
    expect(store.items).toEqual([])
  })
})

describe('rules store', () => {
  it('says when the server uses the default rules, saves with PUT and reloads the history', async () => {
    const rule = { match: {}, steps: [{ decider: 'role', role: 'approver' }] }
    net.route('GET /api/approval-rules', () => [
      200,
      { items: [rule], default: true, updated_at: null, updated_by: null },
    ])
    net.route('PUT /api/approval-rules', (c) => [
      200,
      { items: c.body.items, default: false, updated_at: '2026-11-27T10:00:00Z', updated_by: { id: 9 } },
    ])
    net.route('GET /api/approval-rules/changes', () => [200, { items: [{ id: 1 }] }])
    const store = useRulesStore()
    await store.load()
    expect(store.isDefault).toBe(true)
    await store.save([rule])
    expect(net.callsTo('PUT /api/approval-rules')[0].body).toEqual({ items: [rule] })
    expect(store.isDefault).toBe(false)
    await new Promise((r) => setTimeout(r, 0))
    expect(store.changes).toEqual([{ id: 1 }])
  })

  it('passes a 422 with its field keys on to the form', async () => {
    const fields = { 'items.0.steps.0.role': ['Not a role'] }
    net.route('PUT /api/approval-rules', () => [
      422,
      { error: { code: 'validation_failed', message: 'Invalid rules', details: { fields } } },
    ])
    await expect(useRulesStore().save([])).rejects.toMatchObject({ status: 422, details: { fields } })
  })
})
