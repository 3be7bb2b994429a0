import { describe, expect, it } from 'vitest'
import { createProbeStats } from '../../src/probe/probe-stats.js'
import { catchUpSlot, nextSlot, phaseMs } from '../../src/probe/slots.js'

// The scheduler's counters and slot arithmetic, with a hand-driven clock.

const live = { targets: 2, inFlightRounds: 3, inFlightEchoes: 4 }

describe('probe stats', () => {
  it('is all zero and null before any round', () => {
    const stats = createProbeStats({ now: () => 0, lateMs: 50 })
    expect(stats.snapshot(live)).toEqual({
      ...live,
      rounds: 0,
      echoes: 0,
      lateRounds: 0,
      missedRounds: 0,
      echoesPerSecond: 0,
      lagP50Ms: null,
      lagP99Ms: null,
      lagMaxMs: null,
      reloads: 0,
      lastReloadError: null,
    })
  })

  it('counts rounds, late rounds, missed slots and reloads, and takes lag quantiles', () => {
    const stats = createProbeStats({ now: () => 1_000_000, lateMs: 50 })
    for (let i = 1; i <= 100; i++) stats.recordRoundStart(i + 0.04) // 1.04 … 100.04 ms
    for (let i = 0; i < 100; i++) stats.recordRoundDone(3)
    stats.recordMissedSlots(2)
    stats.recordReload()
    stats.recordReloadError('connection refused')
    const s = stats.snapshot(live)
    // late: over 50 ms, so 50.04 ms … 100.04 ms
    expect(s).toMatchObject({ rounds: 100, echoes: 300, lateRounds: 51, missedRounds: 2, reloads: 1, lastReloadError: 'connection refused' })
    expect(s.lagP50Ms).toBe(51) // rounded to 0.1 ms
    expect(s.lagP99Ms).toBe(100)
    expect(s.lagMaxMs).toBeCloseTo(100.04)
    stats.recordReloadError(null)
    expect(stats.snapshot(live).lastReloadError).toBeNull()
  })

  it('rates echoes over the last 10 s only', () => {
    let t = 1_000_000
    const stats = createProbeStats({ now: () => t, lateMs: 50 })
    for (let sec = 0; sec < 10; sec++) {
      stats.recordRoundDone(100)
      t += 1000
    }
    t -= 1000
    expect(stats.snapshot(live).echoesPerSecond).toBe(100)
    t += 5000 // the 5 oldest seconds fall out of the window
    expect(stats.snapshot(live).echoesPerSecond).toBe(50)
    t += 60_000
    expect(stats.snapshot(live).echoesPerSecond).toBe(0)
  })
})

describe('slots', () => {
  it('spreads phases over the interval and lands on phase + k·interval', () => {
    expect(phaseMs(1, 1000)).toBe(2654435761 % 1000)
    expect(phaseMs(2, 60_000)).toBeLessThan(60_000)
    expect(nextSlot(10_000, 1000, 250)).toBe(10_250)
    expect(nextSlot(10_250, 1000, 250)).toBe(10_250) // at or after
    expect(nextSlot(10_251, 1000, 250)).toBe(11_250)
  })

  it('skips whole slots already gone and counts them, never shifting the schedule', () => {
    expect(catchUpSlot(10_000, 10_999, 1000)).toEqual({ due: 10_000, missed: 0 }) // late, not missed
    expect(catchUpSlot(10_000, 11_000, 1000)).toEqual({ due: 11_000, missed: 1 })
    expect(catchUpSlot(10_000, 13_500, 1000)).toEqual({ due: 13_000, missed: 3 })
  })
})
