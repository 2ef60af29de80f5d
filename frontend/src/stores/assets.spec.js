import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAssetsStore } from './assets'
import { ALICE, installFakeFetch, seedSession } from '@/testing/fakeFetch'

let net
beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  setActivePinia(createPinia())
  net = installFakeFetch({
    'GET /api/assets/categories': () => [200, { items: ['Laptop', 'Monitor'] }],
    'GET /api/assets': (c) => [
      200,
      {
        items: [
          { id: 1, category: 'Laptop' },
          { id: 2, category: 'Monitor' },
          { id: 3, category: 'Laptop' },
        ],
        page: Number(c.query.page || 1),
        per_page: 20,
        total: 45,
      },
    ],
  })
})

describe('assets store', () => {
  it('lists with the query from the URL and keeps it for reloads', async () => {
    const store = useAssetsStore()
    await store.fetchList({ status: 'in_stock', q: 'dell', mine: true, sort: '-value', page: 1, per_page: 20 })
    await store.fetchList()
    const query = { status: 'in_stock', q: 'dell', mine: 'true', sort: '-value', page: '1', per_page: '20' }
    expect(net.calls[0].query).toEqual(query)
    expect(net.calls[1].query).toEqual(query)
    expect(store.list.total).toBe(45)
  })

  it('loads the categories once', async () => {
    const store = useAssetsStore()
    expect(await store.fetchCategories()).toEqual(['Laptop', 'Monitor'])
    await store.fetchCategories()
    expect(net.calls.filter((c) => c.path === '/api/assets/categories')).toHaveLength(1)
  })
})

describe('assets store, admin edits', () => {
  const created = { id: 99, tag: 'NEW-1', name: 'Dock', category: 'Docking station', value: '120.00', currency: 'CNY', status: 'in_stock' }

  it('creates an asset, reloads the list and learns its new category', async () => {
    net.route('POST /api/assets', () => [201, created])
    const store = useAssetsStore()
    await store.fetchCategories()
    await store.fetchList({ page: 2 })
    expect(await store.create({ tag: 'NEW-1', name: 'Dock', category: 'Docking station', value: '120.00' })).toEqual(created)
    expect(net.callsTo('POST /api/assets')[0].body).toEqual({ tag: 'NEW-1', name: 'Dock', category: 'Docking station', value: '120.00' })
    expect(net.callsTo('GET /api/assets')).toHaveLength(2)
    expect(net.callsTo('GET /api/assets').at(-1).query.page).toBe('2')
    expect(store.categories).toEqual(['Docking station', 'Laptop', 'Monitor'])
  })

  it('passes a taken tag (409) and field errors (422) on to the form', async () => {
    net.route('POST /api/assets', (c) =>
      c.body.tag === 'AST-001001'
        ? [409, { error: { code: 'conflict', message: "Asset tag 'AST-001001' is taken", details: { tag: 'AST-001001' } } }]
        : [422, { error: { code: 'validation_error', message: 'Invalid input', details: { fields: { value: ['Not a valid number.'] } } } }],
    )
    const store = useAssetsStore()
    await expect(store.create({ tag: 'AST-001001' })).rejects.toMatchObject({ status: 409, details: { tag: 'AST-001001' } })
    await expect(store.create({ tag: 'X' })).rejects.toMatchObject({ status: 422, details: { fields: { value: ['Not a valid number.'] } } })
    expect(net.callsTo('GET /api/assets')).toHaveLength(0)
  })

  it('patches an asset and refreshes the open detail and its list row', async () => {
    const before = { id: 1, name: 'Old', category: 'Laptop', status: 'in_repair' }
    const after = { ...before, name: 'New', status: 'in_stock' }
    net.route('PATCH /api/assets/1', () => [200, after])
    net.route('GET /api/assets/1', () => [200, { ...after, requests: [] }])
    const store = useAssetsStore()
    await store.fetchList()
    store.current = { ...before, requests: [] }
    await store.update(1, { name: 'New', status: 'in_stock' })
    expect(net.callsTo('PATCH /api/assets/1')[0].body).toEqual({ name: 'New', status: 'in_stock' })
    expect(store.list.items[0]).toEqual(after)
    expect(store.current).toEqual({ ...after, requests: [] })
  })

  it('does not load the categories on behalf of a save', async () => {
    net.route('PATCH /api/assets/2', () => [200, { id: 2, category: 'Tablet' }])
    const store = useAssetsStore()
    await store.update(2, { category: 'Tablet' })
    expect(store.categories).toEqual([])
    expect(await store.fetchCategories()).toEqual(['Laptop', 'Monitor'])
  })
})
