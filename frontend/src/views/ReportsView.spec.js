import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import ReportsView from './ReportsView.vue'
import { BOB, installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'
import { SUMMARY, seriesOf } from '@/testing/reports'

// ECharts draws on a canvas, which happy-dom has not: the chart itself is stubbed, the rest is real.
vi.mock('vue-echarts', async () => {
  const { h } = await import('vue')
  return { default: { name: 'VChart', props: ['option'], render: () => h('div', { 'data-test': 'echart' }) } }
})

let net
let mounted

beforeEach(() => {
  localStorage.clear()
  seedSession(BOB)
  net = installFakeFetch({
    'GET /api/reports/summary': () => [200, SUMMARY],
    'GET /api/reports/timeseries': seriesOf,
    'GET /api/departments': () => [
      200,
      { items: [{ id: 2, name: 'Sales', path: ['Company', 'Sales'], manager: { id: BOB.id } }] },
    ],
  })
})
afterEach(() => {
  mounted?.wrapper.unmount()
  document.body.innerHTML = ''
})

describe('reports screen', { timeout: 30000 }, () => {
  it('reads its filters from the URL and shows counts, charts and overdue links', async () => {
    mounted = await mountView(ReportsView, {
      query: { from: '2026-01-01', to: '2026-01-31', department_id: '2', interval: 'week' },
    })
    await settle()
    expect(net.callsTo('GET /api/reports/summary')[0].query).toMatchObject({
      from: '2026-01-01',
      to: '2026-02-01',
      department_id: '2',
    })
    expect(mounted.wrapper.find('[data-count=submitted]').text()).toBe('4')
    expect(mounted.wrapper.findAll('[data-chart]').length).toBe(6)
    expect(mounted.wrapper.find('[data-overdue="9"]').exists()).toBe(true)
  })

  it('switches a chart to its table and downloads its CSV', async () => {
    mounted = await mountView(ReportsView)
    await settle()
    await mounted.wrapper.find('[data-report=by-department] [data-view=by-department-table]').trigger('click')
    await settle()
    const table = mounted.wrapper.find('[data-table=by-department]')
    expect(table.text()).toContain('Company / Sales')
    expect(table.text()).toContain('1200.50')
    const saved = []
    vi.stubGlobal(
      'URL',
      Object.assign(URL, { createObjectURL: (blob) => (saved.push(blob), 'blob:x'), revokeObjectURL: () => {} }),
    )
    await mounted.wrapper.find('[data-csv=by-department]').trigger('click')
    const text = await saved[0].text()
    expect(text).toContain('Department,Category,Currency,Amount')
    expect(text).toContain('Company / Sales,Laptop,CNY,1200.50')
  })

  it('says so when the user may not see reports', async () => {
    net.route('GET /api/reports/summary', () => [403, { error: { code: 'forbidden', message: 'no' } }])
    mounted = await mountView(ReportsView)
    await settle()
    expect(mounted.wrapper.find('[data-test=reports-forbidden]').exists()).toBe(true)
  })
})
