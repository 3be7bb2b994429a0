import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../src/db/open.js'
import { HISTOGRAM_BINS, HISTOGRAM_MAX_RELATIVE_ERROR, binIndex } from '../../src/insights/histogram.js'
import { meanOpinionScore } from '../../src/insights/insights.mos.js'
import { DEFAULT_RETENTION, MAX_BUCKETS, TIERS, chooseBucketSeconds, chooseTier } from '../../src/insights/insights.tiers.js'
import { type Sample, insertSamples } from '../../src/probe/writer.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// /insights on the real engine. Expected values are computed here from the samples the test generates
// itself, never from the database: exact statistics for a raw window, and for a 60-day window answered
// by the 1-hour tier, percentiles within the histogram's proven error bound.

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

interface Bucket {
  bucket: string
  avg_latency_ms: number | null
  min_latency_ms: number | null
  max_latency_ms: number | null
  loss_rate: number | null
  sample_count: number
  p5_latency_ms: number | null
  p50_latency_ms: number | null
  p95_latency_ms: number | null
  histogram?: number[]
}
interface Outage { id: number; target_id: number; started_at: string; ended_at: string | null; duration_s: number; ongoing: boolean; lost_rounds: number; cause: string | null }
interface Insights {
  target_id: number
  target_ip: string
  tier: 'raw' | '1m' | '1h'
  window_minutes: number
  window_start: string
  window_end: string
  bucket_seconds: number
  sample_count: number
  loss_count: number
  uptime_percent: number | null
  loss_percent: number | null
  latency_avg_ms: number | null
  latency_min_ms: number | null
  latency_max_ms: number | null
  latency_p50_ms: number | null
  latency_p95_ms: number | null
  latency_p99_ms: number | null
  percentile_max_relative_error: number
  jitter_ms: number | null
  mos: number | null
  hop_count: number | null
  hop_count_min: number | null
  hop_count_max: number | null
  outages: { count: number; downtime_seconds: number; items: Outage[] }
  histogram_edges_us?: number[]
  timeline: Bucket[]
}

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Linear interpolation between order statistics: PostgreSQL's percentile_cont, the predecessor's method. */
function percentileCont(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  const k = (sorted.length - 1) * p
  const f = Math.floor(k)
  const lo = sorted[f]!
  const hi = sorted[Math.min(f + 1, sorted.length - 1)]!
  return lo + (hi - lo) * (k - f)
}

/** Nearest rank: percentile_disc, what the histogram bound is proven against. */
function percentileDisc(sorted: number[], p: number): number | null {
  return sorted.length === 0 ? null : sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!
}

const ms = (us: number | null) => (us === null ? null : Math.round(us) / 1000)
const sortedRtts = (xs: Sample[]) => xs.flatMap((s) => (s.rttUs === null ? [] : [s.rttUs])).sort((a, b) => a - b)

// The documented formula, written out again here rather than imported.
function expectedMos(latencyMs: number, jitterMs: number, lossPercent: number): number {
  const l = latencyMs + 2 * jitterMs + 10
  const r = Math.min(100, Math.max(0, (l < 160 ? 93.2 - l / 40 : 93.2 - (l - 120) / 10) - 2.5 * lossPercent))
  return Math.round(Math.min(4.5, Math.max(1, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r))) * 100) / 100
}

function withJitter(samples: Sample[]): Sample[] {
  let prev: number | null = null
  return samples.map((s) => {
    const jitterUs = s.rttUs === null || prev === null ? null : Math.abs(s.rttUs - prev)
    if (s.rttUs !== null) prev = s.rttUs
    return { ...s, jitterUs }
  })
}

async function makeTarget(sql: Sql, address: string): Promise<number> {
  const [t] = await sql<{ id: number }[]>`insert into targets (address, enabled) values (${address}, false) returning id`
  return t!.id
}

async function insertAll(sql: Sql, samples: Sample[]) {
  for (let i = 0; i < samples.length; i += 10_000) await insertSamples(sql, samples.slice(i, i + 10_000))
}

describe('tier and bucket choice', () => {
  const now = new Date('2026-01-01T12:00:00Z')
  const ago = (m: number) => new Date(now.getTime() - m * MIN)

  it('picks raw up to 6 h, 1m up to 7 days, 1h beyond, and respects retention', () => {
    const tier = (fromMin: number, toMin = 0) => chooseTier(ago(fromMin), ago(toMin), now, DEFAULT_RETENTION).name
    expect(tier(15)).toBe('raw')
    expect(tier(360)).toBe('raw')
    expect(tier(361)).toBe('1m')
    expect(tier(7 * 1440)).toBe('1m')
    expect(tier(7 * 1440 + 1)).toBe('1h')
    expect(tier(5 * 365 * 1440)).toBe('1h')
    // Short windows whose start is older than the finer tier's retention.
    expect(tier(4 * 1440, 4 * 1440 - 120)).toBe('1m')
    expect(tier(40 * 1440, 40 * 1440 - 120)).toBe('1h')
    expect(chooseTier(ago(4 * 1440), ago(4 * 1440 - 120), now, { ...DEFAULT_RETENTION, rawDays: 7 }).name).toBe('raw')
  })

  it('defaults to 100–300 buckets and enlarges requests to the tier resolution and the bucket cap', () => {
    const [raw, m1, h1] = TIERS as [(typeof TIERS)[0], (typeof TIERS)[0], (typeof TIERS)[0]]
    for (const [windowS, tier] of [[900, raw], [3600, raw], [21_600, raw], [86_400, m1], [7 * 86_400, m1], [30 * 86_400, h1], [90 * 86_400, h1], [5 * 365 * 86_400, h1]] as const) {
      const b = chooseBucketSeconds(windowS, tier)
      expect(windowS / b, `${windowS}`).toBeLessThanOrEqual(300)
      expect(windowS / b, `${windowS}`).toBeGreaterThanOrEqual(85)
      expect(b % Math.max(1, tier.resolutionS)).toBe(0)
    }
    expect(chooseBucketSeconds(86_400, m1, 10)).toBe(60)
    // Never finer than the target's probe interval (a 60 s target in 15 s buckets fills one in four).
    expect(chooseBucketSeconds(3600, raw, undefined, 60)).toBe(60)
    expect(chooseBucketSeconds(900, raw, undefined, 60)).toBe(60)
    expect(chooseBucketSeconds(3600, raw, 10, 60)).toBe(60)
    expect(chooseBucketSeconds(3600, raw, undefined, 90)).toBe(120)
    expect(chooseBucketSeconds(86_400, m1, undefined, 300)).toBe(300)
    expect(chooseBucketSeconds(86_400, m1, 60, 90)).toBe(120)
    expect(chooseBucketSeconds(86_400, m1, 90)).toBe(120)
    expect(chooseBucketSeconds(30 * 86_400, h1, 60)).toBe(3600)
    expect(chooseBucketSeconds(3600, raw, 10)).toBe(10)
    const fiveYears = 5 * 365 * 86_400
    const b = chooseBucketSeconds(fiveYears, h1, 3600)
    expect(b % 3600).toBe(0)
    expect(fiveYears / b).toBeLessThanOrEqual(MAX_BUCKETS)
  })

  it('scores MOS with the simplified E-model', () => {
    expect(meanOpinionScore({ latencyMs: 0, jitterMs: 0, lossPercent: 0 })).toBe(4.4)
    expect(meanOpinionScore({ latencyMs: 20, jitterMs: 2, lossPercent: 0 })).toBe(expectedMos(20, 2, 0))
    expect(meanOpinionScore({ latencyMs: 300, jitterMs: 30, lossPercent: 5 })).toBe(expectedMos(300, 30, 5))
    expect(meanOpinionScore({ latencyMs: 300, jitterMs: 30, lossPercent: 5 })).toBeLessThan(3)
    expect(meanOpinionScore({ latencyMs: null, jitterMs: null, lossPercent: 100 })).toBe(1)
  })
})

describe.each(ENGINES)('insights API (%s engine)', (engine) => {
  let t: TestApp
  let sql: Sql
  const now = Date.now()
  const hourFloor = Math.floor(now / HOUR) * HOUR
  const get = async (id: number, query: string) => {
    const res = await t.app.inject({ url: `/targets/${id}/insights?${query}`, headers: t.viewer })
    if (res.statusCode !== 200) throw new Error(`${query}: ${res.statusCode} ${res.body}`)
    return res.json<Insights>()
  }

  // Raw window: [T0, T0 + 2 h), samples every 5 s from 10 minutes before to 10 minutes after, none in
  // [T0 + 30 min, T0 + 50 min), 8 % lost, a route change (TTL 57 → 55) halfway.
  let rawTarget: number
  const T0 = hourFloor - 3 * HOUR
  const rawSamples: Sample[] = []

  // Long history: [D0, D1) every 120 s, 58 days ending a day ago, no data on days 20–22.
  let longTarget: number
  const D0 = hourFloor - 59 * DAY
  const D1 = hourFloor - DAY
  const longSamples: Sample[] = []
  let outageStraddling = 0

  // Window edges: a sample every 10 s in three stretches, so that every partial minute and hour at a
  // window's ends holds samples: around 4 days ago (the 1-minute tier, raw samples gone by the default
  // 3-day retention), 40 days ago (the 1-hour tier, 1-minute rows gone too) and from 30 h to 20 h ago.
  let edgeTarget: number
  const edgeStretches = [
    [hourFloor - 4 * DAY - 4 * HOUR, hourFloor - 4 * DAY + 4 * HOUR],
    [hourFloor - 40 * DAY - 3 * HOUR, hourFloor - 40 * DAY + 3 * HOUR],
    [hourFloor - 30 * HOUR, hourFloor - 20 * HOUR],
  ] as const
  const edgeTimes: number[] = []

  beforeAll(async () => {
    t = await buildTestApp(engine)
    sql = t.db.sql
    rawTarget = await makeTarget(sql, '198.51.100.1')
    longTarget = await makeTarget(sql, '198.51.100.2')

    let rand = rng(7)
    const raw: Sample[] = []
    for (let time = T0 - 10 * MIN; time < T0 + 2 * HOUR + 10 * MIN; time += 5000) {
      if (time >= T0 + 30 * MIN && time < T0 + 50 * MIN) continue
      const lost = rand() < 0.08
      const rttUs = lost ? null : Math.round(2000 * 40 ** rand())
      raw.push({ time: new Date(time), targetId: rawTarget, seq: 0, rttUs, ttl: lost ? null : time < T0 + HOUR ? 57 : 55, jitterUs: null, status: lost ? 1 : 0, reporter: null })
    }
    rawSamples.push(...withJitter(raw))
    await insertAll(sql, rawSamples)

    rand = rng(11)
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    const long: Sample[] = []
    for (let time = D0; time < D1; time += 120_000) {
      if (time >= D0 + 20 * DAY && time < D0 + 22 * DAY) continue
      const u = rand()
      const lost = u < 0.03
      const rttUs = lost ? null : u < 0.8 ? Math.round(15_000 * Math.exp(0.3 * gauss())) : u < 0.95 ? Math.round(40_000 * Math.exp(0.2 * gauss())) : Math.round(100_000 + rand() * 800_000)
      long.push({ time: new Date(time), targetId: longTarget, seq: 0, rttUs, ttl: lost ? null : 50, jitterUs: null, status: lost ? 1 : 0, reporter: null })
    }
    longSamples.push(...withJitter(long))
    await insertAll(sql, longSamples)

    edgeTarget = await makeTarget(sql, '198.51.100.3')
    for (const [a, b] of edgeStretches) for (let time = a; time < b; time += 10_000) edgeTimes.push(time)
    await insertAll(sql, edgeTimes.map((time, i) => ({ time: new Date(time), targetId: edgeTarget, seq: 0, rttUs: 1000 + (i % 500), ttl: 50, jitterUs: null, status: 0, reporter: null })))
    // Materialise both tiers over explicit ranges (the 1-hour tier from the 1-minute one).
    await sql`call refresh_continuous_aggregate('samples_1m', ${new Date(D0)}::timestamptz, ${new Date(D1)}::timestamptz)`
    await sql`call refresh_continuous_aggregate('samples_1h', ${new Date(D0)}::timestamptz, ${new Date(D1)}::timestamptz)`

    // Outages of the long target: one inside the 60-day window, one straddling its start, one before
    // it, one ongoing.
    // The 60-day window starts at the first whole hour after now − 60 days.
    outageStraddling = hourFloor - 60 * DAY
    await sql`
      insert into outages (target_id, started_at, ended_at, lost_rounds, cause) values
        (${longTarget}, ${new Date(now - 10 * DAY)}, ${new Date(now - 10 * DAY + HOUR)}, 60, 'timeout'),
        (${longTarget}, ${new Date(outageStraddling)}, ${new Date(outageStraddling + 2 * HOUR)}, 120, 'timeout'),
        (${longTarget}, ${new Date(now - 70 * DAY)}, ${new Date(now - 69 * DAY)}, 1440, 'unreachable (reported by 192.0.2.1)'),
        (${longTarget}, ${new Date(now - 30 * MIN)}, null, 30, 'timeout')`
  })
  afterAll(() => t?.close())

  it('answers a 2-hour window from raw samples with exact values', async () => {
    const from = new Date(T0).toISOString()
    const to = new Date(T0 + 2 * HOUR).toISOString()
    const r = await get(rawTarget, `from=${from}&to=${to}&bucket_seconds=600&histogram=true`)
    const inWindow = rawSamples.filter((s) => s.time.getTime() >= T0 && s.time.getTime() < T0 + 2 * HOUR)
    const rtts = sortedRtts(inWindow)
    const lost = inWindow.length - rtts.length
    const jitters = inWindow.flatMap((s) => (s.jitterUs === null ? [] : [s.jitterUs]))
    const avg = ms(rtts.reduce((a, b) => a + b, 0) / rtts.length)!
    const jitter = ms(jitters.reduce((a, b) => a + b, 0) / jitters.length)!

    expect(r).toMatchObject({
      target_id: rawTarget,
      target_ip: '198.51.100.1',
      tier: 'raw',
      window_start: from,
      window_end: to,
      window_minutes: 120,
      bucket_seconds: 600,
      sample_count: inWindow.length,
      loss_count: lost,
      latency_min_ms: rtts[0]! / 1000,
      latency_max_ms: rtts.at(-1)! / 1000,
      percentile_max_relative_error: 0,
      hop_count: 9,
      hop_count_min: 7,
      hop_count_max: 9,
      outages: { count: 0, downtime_seconds: 0, items: [] },
    })
    expect(r.loss_percent).toBeCloseTo((lost / inWindow.length) * 100, 9)
    expect(r.uptime_percent).toBeCloseTo(100 - (lost / inWindow.length) * 100, 9)
    expect(r.latency_avg_ms).toBeCloseTo(avg, 9)
    expect(r.jitter_ms).toBeCloseTo(jitter, 9)
    expect(r.mos).toBe(expectedMos(r.latency_avg_ms!, r.jitter_ms!, r.loss_percent!))
    // Exact percentiles, to the microsecond the API rounds to.
    for (const [field, p] of [['latency_p50_ms', 0.5], ['latency_p95_ms', 0.95], ['latency_p99_ms', 0.99]] as const) {
      expect(Math.abs(r[field]! - percentileCont(rtts, p)! / 1000), field).toBeLessThanOrEqual(0.0005 + 1e-9)
    }

    expect(r.histogram_edges_us).toHaveLength(HISTOGRAM_BINS)
    expect(r.timeline).toHaveLength(12)
    for (const [i, b] of r.timeline.entries()) {
      const start = T0 + i * 600_000
      expect(b.bucket).toBe(new Date(start).toISOString())
      const xs = inWindow.filter((s) => s.time.getTime() >= start && s.time.getTime() < start + 600_000)
      const v = sortedRtts(xs)
      if (i === 3 || i === 4) {
        // The gap: filled with an empty bucket.
        expect(xs).toHaveLength(0)
        expect(b).toEqual({
          bucket: b.bucket, avg_latency_ms: null, min_latency_ms: null, max_latency_ms: null, loss_rate: null, sample_count: 0,
          p5_latency_ms: null, p50_latency_ms: null, p95_latency_ms: null, histogram: new Array(HISTOGRAM_BINS).fill(0),
        })
        continue
      }
      expect(b.sample_count).toBe(xs.length)
      expect(b.loss_rate).toBeCloseTo((xs.length - v.length) / xs.length, 12)
      expect(b.min_latency_ms).toBe(v[0]! / 1000)
      expect(b.max_latency_ms).toBe(v.at(-1)! / 1000)
      expect(b.avg_latency_ms).toBeCloseTo(ms(v.reduce((a, c) => a + c, 0) / v.length)!, 9)
      for (const [field, p] of [['p5_latency_ms', 0.05], ['p50_latency_ms', 0.5], ['p95_latency_ms', 0.95]] as const) {
        expect(Math.abs(b[field]! - percentileCont(v, p)! / 1000)).toBeLessThanOrEqual(0.0005 + 1e-9)
      }
      const hist = new Array<number>(HISTOGRAM_BINS).fill(0)
      for (const x of v) hist[binIndex(x)]!++
      expect(b.histogram).toEqual(hist)
    }
  })

  it('answers a 60-day window from the 1-hour tier within the histogram error bound', async () => {
    const asked = Date.now()
    const r = await get(longTarget, 'window_minutes=86400')
    expect(r.tier).toBe('1h')
    // now − 60 days, up to the hour (the raw samples of that partial hour are gone).
    const windowStart = new Date(r.window_start).getTime()
    expect(windowStart % HOUR).toBe(0)
    expect(windowStart).toBeGreaterThanOrEqual(asked - 60 * DAY)
    expect(windowStart).toBeLessThan(Date.now() - 60 * DAY + HOUR)
    expect(r.bucket_seconds).toBe(21_600)
    expect(r.percentile_max_relative_error).toBe(HISTOGRAM_MAX_RELATIVE_ERROR)

    // Counts, extremes and means are exact sums on every tier.
    const rtts = sortedRtts(longSamples)
    const jitters = longSamples.flatMap((s) => (s.jitterUs === null ? [] : [s.jitterUs]))
    expect(r.sample_count).toBe(longSamples.length)
    expect(r.loss_count).toBe(longSamples.length - rtts.length)
    expect(r.latency_min_ms).toBe(rtts[0]! / 1000)
    expect(r.latency_max_ms).toBe(rtts.at(-1)! / 1000)
    expect(r.latency_avg_ms).toBeCloseTo(ms(rtts.reduce((a, b) => a + b, 0) / rtts.length)!, 9)
    expect(r.jitter_ms).toBeCloseTo(ms(jitters.reduce((a, b) => a + b, 0) / jitters.length)!, 9)
    expect(r.hop_count).toBe(14)

    // Percentiles: estimates from the summed histograms against the exact values of the generated data.
    for (const [field, p] of [['latency_p50_ms', 0.5], ['latency_p95_ms', 0.95], ['latency_p99_ms', 0.99]] as const) {
      const disc = percentileDisc(rtts, p)! / 1000
      const cont = percentileCont(rtts, p)! / 1000
      expect(Math.abs(r[field]! - disc) / disc, `${field} vs percentile_disc`).toBeLessThan(HISTOGRAM_MAX_RELATIVE_ERROR)
      // With this many samples neighbouring order statistics are close, so percentile_cont is as near.
      expect(Math.abs(r[field]! - cont) / cont, `${field} vs percentile_cont`).toBeLessThan(HISTOGRAM_MAX_RELATIVE_ERROR)
    }

    // The timeline: every 6-hour bucket from the window start, the 2-day gap filled with empty buckets.
    const step = 21_600_000
    const first = Math.floor(windowStart / step) * step
    expect(r.timeline[0]!.bucket).toBe(new Date(first).toISOString())
    expect(r.timeline).toHaveLength(Math.ceil((new Date(r.window_end).getTime() - first) / step))
    expect(r.timeline.reduce((a, b) => a + b.sample_count, 0)).toBe(longSamples.length)
    let gaps = 0
    for (const b of r.timeline) {
      const start = new Date(b.bucket).getTime()
      const xs = longSamples.filter((s) => s.time.getTime() >= start && s.time.getTime() < start + step)
      expect(b.sample_count).toBe(xs.length)
      if (start >= D0 + 20 * DAY && start + step <= D0 + 22 * DAY) {
        gaps++
        expect(b).toMatchObject({ sample_count: 0, avg_latency_ms: null, p50_latency_ms: null, loss_rate: null })
      }
      const v = sortedRtts(xs)
      if (v.length === 0) continue
      for (const [field, p] of [['p5_latency_ms', 0.05], ['p50_latency_ms', 0.5], ['p95_latency_ms', 0.95]] as const) {
        const exact = percentileDisc(v, p)! / 1000
        expect(Math.abs(b[field]! - exact) / exact, `${b.bucket} ${field}`).toBeLessThan(HISTOGRAM_MAX_RELATIVE_ERROR)
      }
    }
    expect(gaps).toBeGreaterThanOrEqual(7)
  })

  it('counts only samples in [from, to) on every tier, and says which range it counted', async () => {
    const count = (a: number, b: number) => edgeTimes.filter((x) => x >= a && x < b).length
    const up = (t: number, step: number) => Math.ceil(t / step) * step
    const down = (t: number, step: number) => Math.floor(t / step) * step
    // From and to 17 s and 43 s past a minute: partial minutes and hours at both ends. Where raw samples
    // still cover a partial bucket, the range is exact there; elsewhere it shrinks to whole buckets.
    const cases: { label: string; from: number; to: number; tier: 'raw' | '1m' | '1h'; start: (f: number) => number; end: (t: number) => number }[] = [
      { label: 'raw, 2 h', from: hourFloor - 28 * HOUR + 17_000, to: hourFloor - 26 * HOUR + 43_000, tier: 'raw', start: (f) => f, end: (t) => t },
      { label: '1m, 6.4 h, recent', from: hourFloor - 29 * HOUR + 17_000, to: hourFloor - 22 * HOUR - 37 * MIN + 43_000, tier: '1m', start: (f) => f, end: (t) => t },
      { label: '1m, 2.6 h, 4 days ago', from: hourFloor - 4 * DAY - 2 * HOUR + 17_000, to: hourFloor - 4 * DAY + 37 * MIN + 43_000, tier: '1m', start: (f) => up(f, MIN), end: (t) => down(t, MIN) },
      { label: '1h, 4.2 h, 40 days ago', from: hourFloor - 40 * DAY - 2 * HOUR - 23 * MIN + 17_000, to: hourFloor - 40 * DAY + 2 * HOUR + 37 * MIN + 43_000, tier: '1h', start: (f) => up(f, HOUR), end: (t) => down(t, HOUR) },
      { label: '1h, 8 days to 21 h ago', from: hourFloor - 8 * DAY - 21 * HOUR + 17_000, to: hourFloor - 21 * HOUR - 37 * MIN + 43_000, tier: '1h', start: (f) => up(f, HOUR), end: (t) => t },
      { label: '1h, 40 days to now', from: now - 40 * DAY, to: now, tier: '1h', start: (f) => up(f, HOUR), end: (t) => t },
    ]
    for (const c of cases) {
      const r = await get(edgeTarget, `from=${new Date(c.from).toISOString()}&to=${new Date(c.to).toISOString()}`)
      const [start, end] = [new Date(r.window_start).getTime(), new Date(r.window_end).getTime()]
      expect(r.tier, c.label).toBe(c.tier)
      expect([start, end], c.label).toEqual([c.start(c.from), c.end(c.to)])
      // Never a sample at or after `to`, nor before `from`.
      expect(start, c.label).toBeGreaterThanOrEqual(c.from)
      expect(end, c.label).toBeLessThanOrEqual(c.to)
      expect(r.sample_count, c.label).toBe(count(start, end))
      expect(r.window_minutes, c.label).toBeCloseTo((end - start) / MIN, 9)
      expect(r.timeline.reduce((a, b) => a + b.sample_count, 0), c.label).toBe(r.sample_count)
      for (const b of r.timeline) {
        const t0 = new Date(b.bucket).getTime()
        expect(b.sample_count, `${c.label} ${b.bucket}`).toBe(count(Math.max(t0, start), Math.min(t0 + r.bucket_seconds * 1000, end)))
      }
    }
  })

  it('chooses the tier by window length and by what each tier still holds', async () => {
    const tierOf = async (q: string) => (await get(longTarget, q)).tier
    expect(await tierOf('window_minutes=15')).toBe('raw')
    expect(await tierOf('window_minutes=360')).toBe('raw')
    expect(await tierOf('window_minutes=361')).toBe('1m')
    expect(await tierOf('window_minutes=10080')).toBe('1m')
    expect(await tierOf('window_minutes=10081')).toBe('1h')
    expect(await tierOf('window_minutes=2628000')).toBe('1h')
    const twoHoursEnding = (msAgo: number) => `from=${new Date(now - msAgo - 2 * HOUR).toISOString()}&to=${new Date(now - msAgo).toISOString()}`
    expect(await tierOf(twoHoursEnding(4 * DAY))).toBe('1m') // raw samples are kept 3 days
    expect(await tierOf(twoHoursEnding(40 * DAY))).toBe('1h') // 1-minute rows 30 days
    // A 2-hour window 40 days ago on the 1-hour tier: the same counts as the raw data.
    const r = await get(longTarget, twoHoursEnding(40 * DAY))
    const start = new Date(r.window_start).getTime()
    const end = new Date(r.window_end).getTime()
    expect(r.sample_count).toBe(longSamples.filter((s) => s.time.getTime() >= start && s.time.getTime() < end).length)
  })

  it('defaults and clamps bucket_seconds, reporting the size used', async () => {
    expect((await get(rawTarget, `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 2 * HOUR).toISOString()}`)).bucket_seconds).toBe(30)
    // Never finer than the target's probe interval: the same window of a target probed every 60 s.
    await sql`update targets set interval_s = 60 where id = ${rawTarget}`
    try {
      expect((await get(rawTarget, `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 2 * HOUR).toISOString()}`)).bucket_seconds).toBe(60)
    } finally {
      await sql`update targets set interval_s = 1 where id = ${rawTarget}`
    }
    const hourly = await get(longTarget, 'window_minutes=86400&bucket_seconds=60')
    expect(hourly.bucket_seconds).toBe(3600)
    const firstHour = Math.floor(new Date(hourly.window_start).getTime() / HOUR) * HOUR
    expect(hourly.timeline).toHaveLength(Math.ceil((new Date(hourly.window_end).getTime() - firstHour) / HOUR))
    const years = await get(longTarget, 'window_minutes=2628000&bucket_seconds=10')
    expect(years.bucket_seconds % 3600).toBe(0)
    expect(years.timeline.length).toBeLessThanOrEqual(MAX_BUCKETS + 1)
    expect(years.sample_count).toBe(longSamples.length)
    const minutes = await get(longTarget, 'window_minutes=1440&bucket_seconds=90')
    expect(minutes).toMatchObject({ tier: '1m', bucket_seconds: 120 })
  })

  it('counts outages overlapping the window and lists them newest first', async () => {
    const r = await get(longTarget, 'window_minutes=86400')
    expect(r.outages.count).toBe(3)
    expect(r.outages.items.map((o) => o.ongoing)).toEqual([true, false, false])
    expect(r.outages.items.map((o) => o.lost_rounds)).toEqual([30, 60, 120])
    // Each outage's time inside the window, the ongoing one up to now (the window end): about one hour
    // inside, one hour of the straddling one and half an hour.
    const [ws, we] = [new Date(r.window_start).getTime(), new Date(r.window_end).getTime()]
    const overlap = (from: number, to: number) => Math.max(0, Math.min(to, we) - Math.max(from, ws)) / 1000
    const expected = overlap(now - 10 * DAY, now - 10 * DAY + HOUR) + overlap(outageStraddling, outageStraddling + 2 * HOUR) + overlap(now - 30 * MIN, we)
    expect(r.outages.downtime_seconds).toBeCloseTo(expected, 3)
    expect(expected).toBeGreaterThan(2.5 * 3600 - 60)

    const list = await t.app.inject({ url: `/targets/${longTarget}/outages?limit=2`, headers: t.viewer })
    expect(list.statusCode).toBe(200)
    const outages = list.json<Outage[]>()
    expect(outages).toHaveLength(2)
    expect(outages[0]).toMatchObject({ target_id: longTarget, ended_at: null, ongoing: true, lost_rounds: 30, cause: 'timeout' })
    expect(outages[0]!.duration_s).toBeGreaterThanOrEqual(1800)
    expect(outages[1]).toMatchObject({
      started_at: new Date(now - 10 * DAY).toISOString(),
      ended_at: new Date(now - 10 * DAY + HOUR).toISOString(),
      duration_s: 3600,
      ongoing: false,
    })
    expect((await t.app.inject({ url: `/targets/${longTarget}/outages`, headers: t.viewer })).json()).toHaveLength(4)
  })

  it('validates the query (422 naming the field) and answers 404 for an unknown target', async () => {
    const from = new Date(T0).toISOString()
    const to = new Date(T0 + HOUR).toISOString()
    const cases: [string, string][] = [
      ['window_minutes=0', 'window_minutes'],
      ['window_minutes=2628001', 'window_minutes'],
      ['window_minutes=abc', 'window_minutes'],
      ['bucket_seconds=5', 'bucket_seconds'],
      ['bucket_seconds=2592001', 'bucket_seconds'],
      ['bucket_seconds=60.5', 'bucket_seconds'],
      [`from=${to}&to=${from}`, 'from'],
      [`from=${from}&to=${from}`, 'from'],
      [`from=${from}&window_minutes=60`, 'window_minutes'],
      ['from=yesterday', 'from'],
      [`from=${new Date(now + HOUR).toISOString()}`, 'from'],
      [`from=${new Date(now - 6 * 365 * DAY).toISOString()}`, 'from'],
      ['to=tomorrow', 'to'],
      ['histogram=maybe', 'histogram'],
    ]
    for (const [q, field] of cases) {
      const res = await t.app.inject({ url: `/targets/${rawTarget}/insights?${q}`, headers: t.viewer })
      expect(res.statusCode, q).toBe(422)
      expect(res.json().detail.map((d: { loc: string[] }) => d.loc.join('.')), q).toContain(`querystring.${field}`)
    }
    for (const path of ['insights', 'outages']) {
      const res = await t.app.inject({ url: `/targets/99999/${path}`, headers: t.viewer })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ detail: 'Target not found' })
    }
    const bad = await t.app.inject({ url: `/targets/${longTarget}/outages?limit=0`, headers: t.viewer })
    expect(bad.json().detail[0].loc).toEqual(['querystring', 'limit'])
  })

  it('answers an empty window with nulls and zero counts', async () => {
    const r = await get(rawTarget, 'window_minutes=15')
    expect(r).toMatchObject({ tier: 'raw', sample_count: 0, loss_count: 0, uptime_percent: null, latency_avg_ms: null, latency_p50_ms: null, mos: null, hop_count: null })
    expect(r.timeline.every((b) => b.sample_count === 0)).toBe(true)
  })
})
