import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useMetaStore } from './meta'
import META from '@/testing/meta.json'
import { ALICE, installFakeFetch, seedSession } from '@/testing/fakeFetch'

let net
beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  setActivePinia(createPinia())
  net = installFakeFetch({ 'GET /api/meta': () => [200, META] })
})

describe('meta store', () => {
  it('fetches the server rules once, even for concurrent callers', async () => {
    const store = useMetaStore()
    await Promise.all([store.load(), store.load()])
    await store.load()
    expect(net.callsTo('GET /api/meta')).toHaveLength(1)
    expect(store.kinds).toEqual(['acquire', 'assign', 'transfer', 'repair', 'dispose'])
    expect(store.kindFits.assign).toEqual(['in_stock'])
    expect(store.kindFits.acquire).toBeUndefined()
    expect(store.rules.limits.maxValue).toBe(999999999999.99) // NUMERIC(14, 2)
    expect(store.rules.createStatuses).toEqual(['in_stock', 'in_repair'])
  })
})
