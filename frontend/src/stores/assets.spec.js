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
  it('filters from page 1 and pages on', async () => {
    const store = useAssetsStore()
    await store.fetchList({ page: 3 })
    await store.setFilters({ status: 'in_stock', q: 'dell' })
    expect(net.calls[1].query).toEqual({ status: 'in_stock', q: 'dell', page: '1', per_page: '20' })
    expect(store.list.total).toBe(45)
  })

  it('loads the categories once', async () => {
    const store = useAssetsStore()
    expect(await store.fetchCategories()).toEqual(['Laptop', 'Monitor'])
    await store.fetchCategories()
    expect(net.calls.filter((c) => c.path === '/api/assets/categories')).toHaveLength(1)
  })
})
