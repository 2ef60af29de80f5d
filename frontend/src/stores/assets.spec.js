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

  it('collects distinct categories', async () => {
    expect(await useAssetsStore().fetchCategories()).toEqual(['Laptop', 'Monitor'])
  })
})
