import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { REFRESH_DEBOUNCE_MS, dayAfter, reportQuery, useReportsStore } from './reports'
import { BOB, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { toCsv } from '@/utils/csv'
import { SUMMARY, seriesOf } from '@/testing/reports'

let net

beforeEach(() => {
  localStorage.clear()
  seedSession(BOB)
  setActivePinia(createPinia())
  net = installFakeFetch({
    'GET /api/reports/summary': () => [200, SUMMARY],
    'GET /api/reports/timeseries': seriesOf,
  })
})
afterEach(() => vi.useRealTimers())

describe('reports store', () => {
  it('asks for the summary and every metric, with the last day included and the browser time zone', async () => {
    const store = useReportsStore()
    await store.load({ from: '2026-01-01', to: '2026-01-31', department_id: '2', kind: '', interval: 'week' })
    const summary = net.callsTo('GET /api/reports/summary')[0].query
    expect(summary).toMatchObject({ from: '2026-01-01', to: '2026-02-01', department_id: '2' })
    expect(summary.tz).toBeTruthy()
    expect(summary.kind).toBeUndefined()
    const metrics = net.callsTo('GET /api/reports/timeseries').map((c) => [c.query.metric, c.query.interval])
    expect(metrics).toEqual([
      ['submitted', 'week'],
      ['decided', 'week'],
      ['approved_value', 'week'],
      ['time_to_decision', 'week'],
    ])
    expect(store.summary.counts.submitted).toBe(4)
    expect(store.series.approved_value[0]).toMatchObject({ currency: 'CNY', value: '1200.50' })
  })

  it('refetches once after a burst of decisions, and only while the page is open', async () => {
    vi.useFakeTimers()
    const store = useReportsStore()
    await store.load({ interval: 'day' })
    const before = net.callsTo('GET /api/reports/summary').length
    store.onDecision() // page not open: nothing
    await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS * 2)
    expect(net.callsTo('GET /api/reports/summary').length).toBe(before)
    store.open()
    for (let i = 0; i < 5; i++) store.onDecision()
    await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS - 1)
    expect(net.callsTo('GET /api/reports/summary').length).toBe(before)
    await vi.advanceTimersByTimeAsync(1)
    expect(net.callsTo('GET /api/reports/summary').length).toBe(before + 1)
    store.onDecision()
    store.close() // leaving the page cancels the pending refetch
    await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS * 2)
    expect(net.callsTo('GET /api/reports/summary').length).toBe(before + 1)
  })
})

describe('report helpers', () => {
  it('turns the inclusive end date into the exclusive API bound, across months and years', () => {
    expect(dayAfter('2026-01-31')).toBe('2026-02-01')
    expect(dayAfter('2025-12-31')).toBe('2026-01-01')
    expect(reportQuery({ to: '2024-02-28' }, 'UTC')).toMatchObject({ to: '2024-02-29', tz: 'UTC' })
  })

  it('writes CSV with quoting and no spreadsheet formulas', () => {
    const csv = toCsv(
      [
        { key: 'a', label: 'A' },
        { key: 'b', label: 'B, b' },
      ],
      [
        { a: '=1+1', b: 'say "hi"' },
        { a: -3, b: null },
      ],
    )
    expect(csv).toBe('A,"B, b"\r\n\'=1+1,"say ""hi"""\r\n-3,\r\n')
  })
})
