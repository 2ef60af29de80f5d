import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'

export const METRICS = ['submitted', 'decided', 'approved_value', 'time_to_decision']
// Decisions arrive in bursts (a bulk approve is one event per request): one refetch after the burst.
export const REFRESH_DEBOUNCE_MS = 1500

/** The browser's time zone, in which the reports' days start (the server reads `tz`). */
export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'

/** The day after an ISO date: the screen's `to` is the last day shown, the API's `to` is excluded. */
export function dayAfter(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number)
  const next = new Date(Date.UTC(y, m - 1, d + 1))
  return next.toISOString().slice(0, 10)
}

/** The API query for the screen's filters (from, to inclusive, department_id, kind). */
export function reportQuery(filters, tz = browserTimeZone()) {
  return {
    from: filters.from || undefined,
    to: filters.to ? dayAfter(filters.to) : undefined,
    department_id: filters.department_id || undefined,
    kind: filters.kind || undefined,
    tz,
  }
}

/** The reports screen's data: the summary and one series per metric, for the filters in the URL. */
export const useReportsStore = defineStore('reports', () => {
  const summary = ref(null)
  const series = ref({})
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref(null)
  // Whether the reports page is open: live updates refetch only then.
  const active = ref(false)
  let filters = null
  let timer = null
  let generation = 0

  async function load(next = filters) {
    if (!next) return
    filters = next
    const mine = ++generation
    loading.value = true
    error.value = null
    const query = reportQuery(next)
    try {
      const [sum, ...points] = await Promise.all([
        api.get('/api/reports/summary', query),
        ...METRICS.map((metric) =>
          api.get('/api/reports/timeseries', { ...query, metric, interval: next.interval || 'day' }),
        ),
      ])
      if (mine !== generation) return // a newer filter's answer wins
      summary.value = sum
      series.value = Object.fromEntries(METRICS.map((m, i) => [m, points[i].points]))
      loaded.value = true
    } catch (err) {
      if (mine === generation) error.value = err
      throw err
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  /** A decision happened somewhere: refetch once the burst is over, if the page is open. */
  function onDecision() {
    if (!active.value || !filters) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      load().catch(() => {})
    }, REFRESH_DEBOUNCE_MS)
  }

  function open() {
    active.value = true
  }

  function close() {
    active.value = false
    clearTimeout(timer)
    timer = null
  }

  function reset() {
    close()
    summary.value = null
    series.value = {}
    loaded.value = false
    error.value = null
    filters = null
  }

  return { summary, series, loading, loaded, error, active, load, onDecision, open, close, reset }
})
