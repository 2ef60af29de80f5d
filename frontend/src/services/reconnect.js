// When a tab's socket tries again, in one place with no imports: the SPA (services/socket.js) and the
// reconnect-storm benchmark's Node clients (bench/node/storm.mjs) both use it, so the benchmark
// measures the SPA's own timing (docs/benchmarks.md, "Reconnect storm").

/**
 * socket.io-client's own reconnection: capped, jittered exponential backoff (1 s, 2 s, 4 s, then 5 s,
 * each ± 50 %). The cap is what decides how long after a restarted process answers its last tab is
 * back; docs/benchmarks.md ("Reconnect storm") has the runs with 15 s and 5 s that chose it.
 */
export const BACKOFF = {
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
}

// A stopping server names the window to reconnect within; at most this is honoured.
export const GOING_AWAY_MAX_MS = 15000
// A busy server's retry hint is honoured up to this.
export const PACED_MAX_MS = 30000

/** The delay of retry `attempt` (0, 1, ...) by hand, on BACKOFF's curve. */
export function jitteredDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF.reconnectionDelayMax, BACKOFF.reconnectionDelay * 2 ** attempt)
  const spread = base * BACKOFF.randomizationFactor
  return Math.round(base - spread + random() * 2 * spread)
}

/**
 * socket.io-client's backoff for the reconnect after `going_away`: its first delay is then
 * reconnectionDelay ± 100 %, uniform over [0, window], which spreads a whole process's tabs over the
 * window the server chose for them.
 */
export function goingAwayBackoff(payload) {
  const within = Math.min(GOING_AWAY_MAX_MS, Math.max(0, Number(payload?.reconnect_within_ms) || 0))
  return { reconnectionDelay: within / 2, randomizationFactor: 1 }
}

/**
 * A server pacing a burst of connects refuses with `unavailable` and how long to wait
 * (`data.error.details.retry_after_ms`, docs/realtime.md): wait that long ± the backoff's jitter.
 * null for any other refusal.
 */
export function pacedDelay(err, random = Math.random) {
  if (err?.message !== 'unavailable') return null
  const hint = Number(err?.data?.error?.details?.retry_after_ms)
  if (!Number.isFinite(hint) || hint < 0) return null
  const base = Math.min(PACED_MAX_MS, hint)
  const spread = base * BACKOFF.randomizationFactor
  return Math.round(base - spread + random() * 2 * spread)
}
