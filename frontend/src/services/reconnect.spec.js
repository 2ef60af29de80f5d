import { describe, expect, it } from 'vitest'
import { BACKOFF, GOING_AWAY_MAX_MS, PACED_MAX_MS, goingAwayBackoff, jitteredDelay, pacedDelay } from './reconnect'

const busy = (ms) => Object.assign(new Error('unavailable'), { data: { error: { details: { retry_after_ms: ms } } } })

describe('reconnect timing', () => {
  it('backs off 1 s, 2 s, 4 s, then the cap, each ± the jitter', () => {
    const at = (r) => [0, 1, 2, 3, 6].map((attempt) => jitteredDelay(attempt, () => r))
    expect(at(0.5)).toEqual([1000, 2000, 4000, 5000, 5000])
    expect(at(0)).toEqual([500, 1000, 2000, 2500, 2500])
    expect(at(1)).toEqual([1500, 3000, 6000, 7500, 7500])
    expect(BACKOFF.reconnectionDelayMax).toBe(5000)
  })

  it('spreads the reconnect after going_away uniformly over the window the server names, up to a cap', () => {
    expect(goingAwayBackoff({ reconnect_within_ms: 5000 })).toEqual({ reconnectionDelay: 2500, randomizationFactor: 1 })
    expect(goingAwayBackoff({ reconnect_within_ms: 10 ** 9 }).reconnectionDelay).toBe(GOING_AWAY_MAX_MS / 2)
    expect(goingAwayBackoff({ reconnect_within_ms: 'soon' }).reconnectionDelay).toBe(0)
    expect(goingAwayBackoff(undefined).reconnectionDelay).toBe(0)
  })

  it("waits a busy server's retry hint ± the jitter, and only for that refusal", () => {
    expect(pacedDelay(busy(2000), () => 0.5)).toBe(2000)
    expect(pacedDelay(busy(2000), () => 0)).toBe(1000)
    expect(pacedDelay(busy(2000), () => 1)).toBe(3000)
    expect(pacedDelay(busy(10 ** 9), () => 0.5)).toBe(PACED_MAX_MS)
    expect(pacedDelay(busy(-1))).toBeNull()
    expect(pacedDelay(busy('later'))).toBeNull()
    expect(pacedDelay(Object.assign(new Error('unauthorized'), { data: busy(1).data }))).toBeNull()
    expect(pacedDelay(new Error('unavailable'))).toBeNull() // a refusal without a hint
    expect(pacedDelay(undefined)).toBeNull()
  })
})
