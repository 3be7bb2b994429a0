import { describe, expect, it } from 'vitest'
import { CLOCK_MARGIN_MS, fairShare, leaseDeadline, planLeases, previousHolderDone } from '../../src/probe/lease-plan.js'
import { catchUpSlot, handoverSlot, phaseMs } from '../../src/probe/slots.js'

// The lease protocol's arithmetic, without a database or a clock.

describe('fairShare', () => {
  it('is ceil(enabled / live), so the live probes of a site always cover every target', () => {
    expect(fairShare(300, 3)).toBe(100)
    expect(fairShare(301, 3)).toBe(101)
    expect(fairShare(300, 2)).toBe(150)
    expect(fairShare(2, 3)).toBe(1)
    for (let targets = 0; targets < 50; targets++) {
      for (let probes = 1; probes < 8; probes++) expect(fairShare(targets, probes) * probes).toBeGreaterThanOrEqual(targets)
    }
  })

  it('is 0 without targets, and everything for a probe that counts no live probe (itself not yet seen)', () => {
    expect(fairShare(0, 3)).toBe(0)
    expect(fairShare(10, 0)).toBe(10)
  })
})

describe('planLeases', () => {
  it('claims up to the share, no more than are free', () => {
    expect(planLeases({ held: [], share: 100, free: 300 })).toEqual({ claim: 100, release: [] })
    expect(planLeases({ held: [1, 2], share: 100, free: 30 })).toEqual({ claim: 30, release: [] })
    expect(planLeases({ held: [1, 2], share: 2, free: 30 })).toEqual({ claim: 0, release: [] })
  })

  it('gives back what it holds beyond the share, highest ids first, and claims nothing then', () => {
    const held = [5, 1, 9, 3, 7]
    expect(planLeases({ held, share: 3, free: 10 })).toEqual({ claim: 0, release: [9, 7] })
    expect(planLeases({ held, share: 0, free: 0 }).release.sort()).toEqual([1, 3, 5, 7, 9])
  })

  it('settles three probes joining one at a time on an even split, covering every target once', () => {
    const targets = Array.from({ length: 300 }, (_, i) => i + 1)
    const holders = new Map<number, number>() // target → probe
    const heldBy = (p: number) => targets.filter((t) => holders.get(t) === p)
    const step = (probe: number, live: number) => {
      const plan = planLeases({ held: heldBy(probe), share: fairShare(targets.length, live), free: targets.filter((t) => !holders.has(t)).length })
      for (const t of plan.release) holders.delete(t)
      for (const t of targets.filter((x) => !holders.has(x)).slice(0, plan.claim)) holders.set(t, probe)
    }
    step(1, 1)
    expect(heldBy(1)).toHaveLength(300)
    for (const live of [2, 3]) for (let round = 0; round < 2; round++) for (let p = 1; p <= live; p++) step(p, live)
    expect([1, 2, 3].map((p) => heldBy(p).length)).toEqual([100, 100, 100])
    expect(holders.size).toBe(300)
  })
})

describe('lease timing', () => {
  it('stops probing one heartbeat before the database may hand the lease on', () => {
    // renewed with a request sent at 10 s, heartbeat 2 s: the lease runs until at least 16 s there
    expect(leaseDeadline(10_000, 2000)).toBe(14_000)
  })

  it('dates the previous holder no earlier than the database did, with a margin for clocks', () => {
    expect(previousHolderDone(5000, 1200)).toBe(3800 + CLOCK_MARGIN_MS)
    expect(previousHolderDone(5000, null)).toBeNull()
    expect(previousHolderDone(5000, -3)).toBe(5000 + CLOCK_MARGIN_MS) // a clock ahead never dates it later still
    expect(CLOCK_MARGIN_MS).toBeLessThanOrEqual(50) // a handover misses a round in at most 5 % of 1 s targets
  })
})

describe('handoverSlot', () => {
  const interval = 1000
  const phase = phaseMs(7, interval)
  const slot = (k: number) => phase + k * interval

  it('resumes at the first slot after the previous holder was done: that slot is never probed twice', () => {
    const doneAt = slot(100) + 300 // the old holder probed slot 100, then let go
    expect(handoverSlot(slot(100) + 400, doneAt, interval, phase)).toBe(slot(101))
    // done exactly at a slot: that slot was its own (a round starts at its slot), the next is ours
    expect(handoverSlot(slot(100) + 400, slot(100), interval, phase)).toBe(slot(101))
  })

  it('catches up the one slot just missed, late, but never more', () => {
    const doneAt = slot(100) + 300
    const now = slot(101) + 250 // claimed after slot 101 had passed
    const first = handoverSlot(now, doneAt, interval, phase)
    expect(first).toBe(slot(101))
    expect(catchUpSlot(first, now, interval)).toEqual({ due: slot(101), missed: 0 }) // run now, late
    // free for long (every probe was down): only the latest slot is run, nothing is made up in a burst
    expect(handoverSlot(slot(500) + 10, doneAt, interval, phase)).toBe(slot(500))
  })
})
