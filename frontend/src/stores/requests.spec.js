import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useRequestsStore } from './requests'
import { ALICE, installFakeFetch, seedSession, update } from '@/testing/fakeFetch'

let net
beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  setActivePinia(createPinia())
  net = installFakeFetch({
    'GET /api/requests': () => [
      200,
      {
        items: [{ id: 7, state: 'pending', step: 1, updated_at: '2026-11-27T09:00:00.531686+00:00' }],
        page: 1,
        per_page: 20,
        total: 1,
      },
    ],
    'GET /api/requests/7': () => [200, { id: 7, state: 'approved', decisions: [], events: [] }],
    'POST /api/requests': (c) => [201, { id: 8, state: 'pending', ...c.body }],
  })
})

describe('requests store', () => {
  it('lists my requests with the query from the URL (always scope=mine), and reloads it', async () => {
    const store = useRequestsStore()
    await store.fetchMine({ state: 'pending', q: 'hinge', sort: '-value', page: 2, per_page: 20 })
    const query = { scope: 'mine', state: 'pending', q: 'hinge', sort: '-value', page: '2', per_page: '20' }
    expect(net.calls[0].query).toEqual(query)
    await store.fetchMine()
    expect(net.calls[1].query).toEqual(query)
    expect(store.mine.total).toBe(1)
  })

  it('reloads the list for its own submission made in another tab, patches a known row', async () => {
    const store = useRequestsStore()
    await store.fetchMine({ page: 1, per_page: 20 })
    store.applyOwnChange({ request_id: 9, state: 'pending', step: 1, action: 'submit', at: '2026-11-27T09:10:00Z' })
    await new Promise((r) => setTimeout(r, 0))
    expect(net.callsTo('GET /api/requests')).toHaveLength(2)
    store.applyOwnChange({ request_id: 7, state: 'withdrawn', step: 1, action: 'withdraw', at: '2026-11-27T09:11:00Z' })
    expect(store.mine.items[0].state).toBe('withdrawn')
    expect(net.callsTo('GET /api/requests')).toHaveLength(2)
  })

  it('patches a live badge and ignores an older replay', async () => {
    const store = useRequestsStore()
    await store.fetchMine()
    store.applyUpdate(update(1, { at: '2026-11-27T09:05:00Z', status: 'approved' }))
    expect(store.mine.items[0].state).toBe('approved')
    store.applyUpdate(update(0, { at: '2026-11-27T09:01:00Z', status: 'pending' }))
    expect(store.mine.items[0].state).toBe('approved')
  })

  it('reloads the open request when it changes', async () => {
    const store = useRequestsStore()
    store.current = { id: 7, state: 'pending' }
    store.applyUpdate(update(1))
    await new Promise((r) => setTimeout(r, 0))
    expect(net.callsTo('GET /api/requests/7')).toHaveLength(1)
    expect(store.current.state).toBe('approved')
  })

  it('submits the body as given', async () => {
    const created = await useRequestsStore().submit({ kind: 'assign', asset_id: 3, reason: 'need it' })
    expect(created.id).toBe(8)
    expect(net.callsTo('POST /api/requests')[0].body).toEqual({ kind: 'assign', asset_id: 3, reason: 'need it' })
  })

  it('resubmits and answers with the new request', async () => {
    net.route('POST /api/requests/7/resubmit', () => [201, { id: 12, previous_id: 7, state: 'pending' }])
    const created = await useRequestsStore().resubmit(7, 'Second try')
    expect(created).toMatchObject({ id: 12, previous_id: 7 })
    expect(net.callsTo('POST /api/requests/7/resubmit')[0].body).toEqual({ reason: 'Second try' })
  })

  it('shows a comment once, whether the HTTP answer or the push comes first', async () => {
    const store = useRequestsStore()
    store.current = { id: 7, state: 'pending', comments: [] }
    net.route('POST /api/requests/7/comments', (c) => [201, { id: 40, author: ALICE, body: c.body.body, at: 'x' }])
    await store.postComment(7, 'Which model?')
    store.applyComment({ request_id: 7, comment_id: 40, actor: { id: 1, name: 'Alice' }, body: 'Which model?' })
    store.applyComment({ request_id: 7, comment_id: 41, actor: { id: 3, name: 'Bob' }, body: 'The 14 inch', at: 'y' })
    store.applyComment({ request_id: 8, comment_id: 42, actor: { id: 3, name: 'Bob' }, body: 'elsewhere', at: 'z' })
    expect(store.current.comments.map((c) => c.id)).toEqual([40, 41])
    expect(store.current.comments[1]).toEqual({
      id: 41,
      author: { id: 3, display_name: 'Bob' },
      body: 'The 14 inch',
      at: 'y',
    })
  })
})
