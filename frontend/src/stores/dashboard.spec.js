import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useDashboardStore } from './dashboard'
import { BOB, installFakeFetch, seedSession } from '@/testing/fakeFetch'

const req = (id, version = 1) => ({ id, kind: 'assign', state: 'pending', step: 1, steps_total: 1, version })
let net

beforeEach(() => {
  localStorage.clear()
  seedSession(BOB)
  setActivePinia(createPinia())
  net = installFakeFetch({
    'GET /api/requests': () => [200, { items: [req(1, 3), req(2), req(3)], page: 1, per_page: 100, total: 3 }],
    'GET /api/requests/stats': () => [200, { counts: { pending: 3, approved: 1 }, median_decision_seconds: 90 }],
  })
})

describe('dashboard store', () => {
  it('loads the inbox and the stats', async () => {
    const store = useDashboardStore()
    await store.refresh()
    expect(store.inbox.map((r) => r.id)).toEqual([1, 2, 3])
    expect(store.stats.median_decision_seconds).toBe(90)
    expect(net.callsTo('GET /api/requests')[0].query).toMatchObject({ scope: 'inbox' })
  })

  it('approves with the row version and drops the row', async () => {
    net.route('POST /api/requests/1/approve', () => [200, { ...req(1, 4), state: 'approved' }])
    const store = useDashboardStore()
    await store.refresh()
    await store.approve(1, 'ok')
    expect(net.callsTo('POST /api/requests/1/approve')[0].body).toEqual({ comment: 'ok', version: 3 })
    expect(store.inbox.map((r) => r.id)).toEqual([2, 3])
  })

  it('turns a 409 into "already decided by X"', async () => {
    net.route('POST /api/requests/2/reject', () => [
      409,
      {
        error: {
          code: 'conflict',
          message: 'Request 2 was already decided by Carol Approver',
          details: { state: 'approved', decided_by: { id: 4, display_name: 'Carol Approver' } },
        },
      },
    ])
    const store = useDashboardStore()
    await store.refresh()
    const err = await store.reject(2, 'no').catch((e) => e)
    expect(err.status).toBe(409)
    expect(err.decidedBy).toBe('Carol Approver')
  })

  it('bulk-approves and reports each id on its own', async () => {
    net.route('POST /api/requests/bulk-approve', (c) => [
      200,
      {
        results: c.body.ids.map((id) =>
          id === 2
            ? { id, ok: false, status: 409, error: { code: 'conflict', message: 'already decided' } }
            : { id, ok: true, request: { ...req(id), state: 'approved' } },
        ),
      },
    ])
    const store = useDashboardStore()
    await store.refresh()
    const results = await store.bulkApprove([1, 2, 3], '')
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
    expect(store.inbox.map((r) => r.id)).toEqual([2])
  })
})
