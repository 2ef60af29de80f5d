import { describe, expect, it } from 'vitest'
import { ageOf } from './age'

describe('ageOf', () => {
  const now = Date.parse('2026-11-27T12:00:00Z')
  it.each([
    ['2026-11-27T11:59:30Z', '0 min'],
    ['2026-11-27T11:18:00Z', '42 min'],
    ['2026-11-27T07:00:00Z', '5 h'],
    ['2026-11-24T12:00:00Z', '3 d'],
  ])('%s is %s old', (iso, expected) => expect(ageOf(iso, now)).toBe(expected))
})
