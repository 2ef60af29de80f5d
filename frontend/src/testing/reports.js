// What the report endpoints answer in the reports' specs.
export const SUMMARY = {
  from: '2026-01-01T00:00:00+08:00',
  to: '2026-02-01T00:00:00+08:00',
  tz: 'Asia/Shanghai',
  counts: { submitted: 4, pending: 1, returned: 0, approved: 2, rejected: 1, withdrawn: 0 },
  time_to_decision: {
    n: 3,
    p50_seconds: 7200,
    p90_seconds: 14400,
    by_step: [{ step: 1, n: 3, p50_seconds: 7200, p90_seconds: 14400 }],
  },
  sla: {
    steps: 4,
    reminded: 1,
    escalated: 0,
    overdue_now: 1,
    overdue_requests: [{ id: 9, kind: 'acquire', step: 1, department_id: 2, due_at: '2026-01-10T00:00:00+00:00' }],
  },
  approved_value: [{ department_id: 2, category: 'Laptop', currency: 'CNY', total: '1200.50' }],
}
/** A timeseries answer with one point for the metric asked. */
export function seriesOf(call) {
  const value = { submitted: 3, decided: 2, approved_value: '1200.50', time_to_decision: 7200 }[call.query.metric]
  const point = { start: '2026-01-05T00:00:00+08:00', value }
  return [
    200,
    {
      metric: call.query.metric,
      interval: call.query.interval,
      tz: call.query.tz,
      points: [call.query.metric === 'approved_value' ? { ...point, currency: 'CNY' } : point],
    },
  ]
}
