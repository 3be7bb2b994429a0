import { describe, expect, it } from 'vitest'
import {
  chunkIntervalFor,
  createCostEstimate,
  fromInternalTime,
  pendingRanges,
  splitIntoSteps,
  unitsPerStep,
} from '../../src/db/maintenance/steps.js'

const MIN = 60_000
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0)
const us = (ms: number) => String(BigInt(ms) * 1000n)
const INF = '9223372036854775807'
const NEG_INF = '-9223372036854775808'
const iso = (r: { from: Date; to: Date }) => [r.from.toISOString().slice(11, 16), r.to.toISOString().slice(11, 16)]

describe('maintenance step planning', () => {
  it('reads internal time and its infinities', () => {
    expect(fromInternalTime(us(T0))?.getTime()).toBe(T0)
    expect(fromInternalTime(INF)).toBeNull()
    expect(fromInternalTime(NEG_INF)).toBeNull()
  })

  it('keeps the bucket-aligned parts of the window that invalidations touch, merged', () => {
    const window = { from: new Date(T0 + 30_000), to: new Date(T0 + 60 * MIN + 30_000) }
    const ranges = pendingRanges(
      window,
      [
        { lo: NEG_INF, hi: us(T0 - 10 * MIN) }, // never materialized, before the window: nothing
        { lo: us(T0 + 5 * MIN + 1), hi: us(T0 + 6 * MIN) }, // touches the buckets at :05 and :06
        { lo: us(T0 + 6 * MIN + 500), hi: us(T0 + 7 * MIN - 1) }, // overlaps: merged
        { lo: us(T0 + 50 * MIN), hi: INF }, // new data above the watermark: up to the window's end
      ],
      MIN,
    )
    expect(ranges.map(iso)).toEqual([['10:05', '10:07'], ['10:50', '11:00']])
  })

  it('cuts ranges into steps of at most n buckets', () => {
    const steps = splitIntoSteps([{ from: new Date(T0), to: new Date(T0 + 5 * MIN) }, { from: new Date(T0 + 9 * MIN), to: new Date(T0 + 10 * MIN) }], MIN, 2)
    expect(steps.map(iso)).toEqual([['10:00', '10:02'], ['10:02', '10:04'], ['10:04', '10:05'], ['10:09', '10:10']])
  })

  it('adapts the cost estimate: a slow step counts fully, a fast one half', () => {
    const c = createCostEstimate(100)
    c.record(50, 1)
    expect(c.get()).toBe(50)
    c.record(10, 1)
    expect(c.get()).toBe(30)
    c.record(400, 2)
    expect(c.get()).toBe(200)
    expect(unitsPerStep(500, c.get(), 1440)).toBe(2)
    expect(unitsPerStep(500, 0, 1440)).toBe(1440)
    expect(unitsPerStep(500, 10_000, 1440)).toBe(1)
  })

  it('picks the longest chunk interval a day divides into that compresses within a step', () => {
    expect(chunkIntervalFor(1, 0.0015, 500, 600)).toBe(86_400)
    // 1,000 targets at 1 s at 1.25 µs a row: 400 s would fit, the floor is 10 minutes.
    expect(chunkIntervalFor(1000, 0.00125, 500, 600)).toBe(600)
    expect(chunkIntervalFor(100, 0.0015, 500, 600)).toBe(1_800)
    expect(86_400 % chunkIntervalFor(37, 0.0015, 500, 600)).toBe(0)
    // The 1-hour tier of 1,000 targets: whole days between 1 and 10.
    expect(chunkIntervalFor(1000 / 3600, 0.008, 500, 86_400, 864_000)).toBe(172_800)
    expect(chunkIntervalFor(10 / 3600, 0.008, 500, 86_400, 864_000)).toBe(864_000)
    expect(chunkIntervalFor(1e6, 0.008, 500, 86_400, 864_000)).toBe(86_400)
  })
})
