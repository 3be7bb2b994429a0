import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../src/db/open.js'
import { refreshTier } from '../../src/db/maintenance/policies.js'
import { HISTOGRAM_MAX_RELATIVE_ERROR } from '../../src/insights/histogram.js'
import { openOutage } from '../../src/outages/outages.repo.js'
import { type Sample, insertSamples } from '../../src/probe/writer.js'
import { ensureSite } from '../../src/sites/sites.repo.js'
import { createPrng } from '../../src/lib/prng.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// Sites (vantage points) in the read paths: one target measured from two sites with different RTTs and
// loss. Insights, logs, CSV export and outages for one site see only that site's samples, exactly on raw
// samples and within the histogram's bound on the per-site rollup tiers; without `site` the figures
// cover both sites and `sites` breaks them down. Expected values come from the generated samples.

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

interface Summary {
  sample_count: number
  loss_count: number
  loss_percent: number | null
  latency_p50_ms: number | null
  latency_min_ms: number | null
  latency_max_ms: number | null
  percentile_source: string
  outages: { count: number }
}
interface Insights extends Summary {
  site: string | null
  tier: string
  sites: (Summary & { site: string })[]
  outages: { count: number; downtime_seconds: number; items: { site: string }[] }
  timeline: { sample_count: number }[]
}

/** PostgreSQL's percentile_cont. */
function percentileCont(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const k = (sorted.length - 1) * p
  const f = Math.floor(k)
  return sorted[f]! + (sorted[Math.min(f + 1, sorted.length - 1)]! - sorted[f]!) * (k - f)
}

describe.each(ENGINES)('sites in insights, logs, export and outages (%s engine)', (engine) => {
  let t: TestApp
  let sql: Sql
  let target = 0
  const hourFloor = Math.floor(Date.now() / HOUR) * HOUR
  // Recent: the last 2 hours before the current hour (raw tier). Older: 2 days ago, 6 hours (1m tier).
  const R0 = hourFloor - 2 * HOUR
  const O0 = hourFloor - 2 * DAY
  const sites = { east: { base: 1000, loss: 0.02, id: 0 }, west: { base: 5000, loss: 0.1, id: 0 } }
  const made: Record<'east' | 'west', Sample[]> = { east: [], west: [] }

  const get = async (url: string) => {
    const res = await t.app.inject({ url, headers: t.viewer })
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    return res
  }
  const insights = async (query: string) => (await get(`/targets/${target}/insights?${query}`)).json<Insights>()
  const within = (s: Sample[], from: number, to: number) => s.filter((x) => x.time.getTime() >= from && x.time.getTime() < to)
  const rtts = (s: Sample[]) => s.flatMap((x) => (x.rttUs === null ? [] : [x.rttUs]))

  beforeAll(async () => {
    t = await buildTestApp(engine)
    sql = t.db.sql
    const res = await t.app.inject({ method: 'POST', url: '/targets/', headers: t.admin, payload: { ip: '192.0.2.60', enabled: false } })
    expect(res.statusCode).toBe(200)
    target = res.json<{ id: number }>().id
    for (const [name, site] of Object.entries(sites)) {
      site.id = await ensureSite(sql, name)
      const rand = createPrng(name === 'east' ? 3 : 5)
      const out: Sample[] = []
      for (const [from, to] of [[R0, R0 + 2 * HOUR], [O0, O0 + 6 * HOUR]] as const) {
        // Each site's rounds at its own phase within the 10 s interval, as two probes would send them.
        for (let time = from + (name === 'east' ? 1234 : 6789); time < to; time += 10_000) {
          const lost = rand() < site.loss
          const rttUs = lost ? null : Math.round(site.base * (0.9 + 0.2 * rand()))
          out.push({ time: new Date(time), targetId: target, seq: 0, rttUs, ttl: lost ? null : 60, jitterUs: null, status: lost ? 1 : 0, reporter: null })
        }
      }
      made[name as 'east' | 'west'] = out
      await insertSamples(sql, out, site.id)
    }
    // A sample of each site at the very same instant: both are kept (the key includes the site).
    const same = { time: new Date(R0 + 500), targetId: target, seq: 0, rttUs: 777, ttl: 60, jitterUs: null, status: 0, reporter: null }
    expect(await insertSamples(sql, [same], sites.east.id)).toBe(1)
    expect(await insertSamples(sql, [same], sites.west.id)).toBe(1)
    expect(await insertSamples(sql, [same], sites.west.id)).toBe(0) // a retried batch never lands twice
    made.east.push(same)
    made.west.push(same)
    for (const tier of ['samples_1m', 'samples_site_1m', 'samples_1h', 'samples_site_1h'] as const) {
      await refreshTier(sql, tier, new Date(O0 - DAY), new Date(hourFloor))
    }
    await openOutage(sql, { targetId: target, startedAt: new Date(R0 + 10 * MIN), lostRounds: 3, cause: 'timeout', site: 'west' })
  })
  afterAll(() => t?.close())

  it('answers one site exactly from raw samples, and breaks the combined window down per site', async () => {
    const from = new Date(R0).toISOString()
    const to = new Date(R0 + 2 * HOUR).toISOString()
    const combined = await insights(`from=${from}&to=${to}`)
    expect(combined).toMatchObject({ site: null, tier: 'raw' })
    for (const name of ['east', 'west'] as const) {
      const mine = within(made[name], R0, R0 + 2 * HOUR)
      const one = await insights(`from=${from}&to=${to}&site=${name}`)
      expect(one.site).toBe(name)
      expect(one.sites).toEqual([])
      expect(one.sample_count).toBe(mine.length)
      expect(one.loss_count).toBe(mine.length - rtts(mine).length)
      expect(one.latency_p50_ms).toBeCloseTo(percentileCont(rtts(mine), 0.5) / 1000, 6)
      expect(one.timeline.reduce((a, b) => a + b.sample_count, 0)).toBe(mine.length)
      // The breakdown of the combined answer says the same as the one-site answer.
      const part = combined.sites.find((s) => s.site === name)!
      expect(part).toMatchObject({ sample_count: one.sample_count, loss_count: one.loss_count, latency_p50_ms: one.latency_p50_ms })
    }
    expect(combined.sample_count).toBe(within([...made.east, ...made.west], R0, R0 + 2 * HOUR).length)
    // 'default' probes this target too (no site list): nothing measured from there.
    expect(combined.sites.map((s) => s.site).sort()).toEqual(['default', 'east', 'west'])
    expect(combined.sites.find((s) => s.site === 'default')!.sample_count).toBe(0)
    // The configured difference shows: west is about 5 times slower and loses more.
    const [east, west] = [combined.sites.find((s) => s.site === 'east')!, combined.sites.find((s) => s.site === 'west')!]
    expect(west.latency_p50_ms! / east.latency_p50_ms!).toBeGreaterThan(4)
    expect(west.loss_percent!).toBeGreaterThan(east.loss_percent!)
    // Outages are each site's own.
    expect(west.outages.count).toBe(1)
    expect(east.outages.count).toBe(0)
    expect(combined.outages.items.map((o) => o.site)).toEqual(['west'])
    expect((await insights(`from=${from}&to=${to}&site=east`)).outages.count).toBe(0)
  })

  it('reads the per-site rollup tiers for one site over a longer window', async () => {
    // 3 days ending at the current hour: the 1-minute tier, its ends from raw samples.
    const from = new Date(hourFloor - 3 * DAY + HOUR).toISOString()
    const to = new Date(hourFloor).toISOString()
    const combined = await insights(`from=${from}&to=${to}`)
    expect(combined.tier).toBe('1m')
    let total = 0
    for (const name of ['east', 'west'] as const) {
      const mine = within(made[name], hourFloor - 3 * DAY + HOUR, hourFloor)
      const one = await insights(`from=${from}&to=${to}&site=${name}`)
      expect(one.tier).toBe('1m')
      expect(one.sample_count).toBe(mine.length)
      expect(one.loss_count).toBe(mine.length - rtts(mine).length)
      expect(one.latency_min_ms).toBe(Math.min(...rtts(mine)) / 1000)
      expect(one.latency_max_ms).toBe(Math.max(...rtts(mine)) / 1000)
      const exact = percentileCont(rtts(mine), 0.5) / 1000
      expect(Math.abs(one.latency_p50_ms! - exact) / exact).toBeLessThanOrEqual(HISTOGRAM_MAX_RELATIVE_ERROR)
      total += mine.length
    }
    expect(combined.sample_count).toBe(total)
  })

  it('filters logs, the CSV export and outages by site, and says each sample\u2019s site', async () => {
    const both = (await get(`/targets/${target}/logs?limit=1000`)).json<{ site: string }[]>()
    expect(new Set(both.map((l) => l.site))).toEqual(new Set(['east', 'west']))
    const west = (await get(`/targets/${target}/logs?limit=50&site=west`)).json<{ site: string; rtt_us: number | null }[]>()
    expect(west).toHaveLength(50)
    expect(west.every((l) => l.site === 'west')).toBe(true)
    const newestWest = made.west.filter((s) => s.time.getTime() < hourFloor).sort((a, b) => a.time.getTime() - b.time.getTime()).slice(-50)
    expect(west.map((l) => l.rtt_us)).toEqual(newestWest.map((s) => s.rttUs))

    const from = new Date(R0).toISOString()
    const to = new Date(R0 + HOUR).toISOString()
    const csv = (await get(`/targets/${target}/logs/export?from=${from}&to=${to}&site=east`)).body.trim().split('\r\n')
    expect(csv[0]).toBe('time,target_id,target_ip,latency_ms,hops,packet_loss,site')
    expect(csv.length - 1).toBe(within(made.east, R0, R0 + HOUR).length)
    expect(csv.slice(1).every((l) => l.endsWith(',east'))).toBe(true)
    const all = (await get(`/targets/${target}/logs/export?from=${from}&to=${to}`)).body.trim().split('\r\n')
    expect(all.length - 1).toBe(within([...made.east, ...made.west], R0, R0 + HOUR).length)

    expect((await get(`/targets/${target}/outages?site=west`)).json()).toHaveLength(1)
    expect((await get(`/targets/${target}/outages?site=east`)).json()).toEqual([])
  })

  it('refuses an unknown or malformed site with a 422 naming the field', async () => {
    for (const url of [`/targets/${target}/insights?site=nowhere`, `/targets/${target}/logs?site=nowhere`, `/targets/${target}/outages?site=nowhere`, `/targets/${target}/logs/export?site=nowhere`]) {
      const res = await t.app.inject({ url, headers: t.viewer })
      expect(res.statusCode, url).toBe(422)
      expect(res.body, url).toMatch(/site/)
    }
    for (const bad of ['East', '%00', '%ED%A0%80', 'a'.repeat(65), '-x', 'a%20b']) {
      const res = await t.app.inject({ url: `/targets/${target}/insights?site=${bad}`, headers: t.viewer })
      expect([400, 422], bad).toContain(res.statusCode)
      expect(res.json<{ detail: unknown }>().detail, bad).toBeDefined()
      expect(JSON.stringify(res.json()), bad).toMatch(/site/)
    }
  })
})
