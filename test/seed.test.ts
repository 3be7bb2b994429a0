import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_NETWORKS, SEED_NOTE, SEED_TAG, seedAddress } from '../src/seed/generator.js'
import { type SeedOptions, type SeedReport, seedHistory } from '../src/seed/seed.service.js'
import type { Sql } from '../src/db/open.js'
import { POLICY_RELATIONS } from '../src/db/maintenance/policies.js'
import { insertSamples } from '../src/probe/writer.js'
import { type TestDatabase, openTestDatabase, tempDir } from './helpers/db.js'
import { ROOT } from './helpers/process.js'
import { ENGINES } from './helpers/engines.js'

// The seed script on the real embedded engine: 40 days written window by window through the probe
// engine's ingest path, then the policy jobs, so each tier must hold exactly what its retention allows.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const DAYS = 40
// On the 5-minute grid, so that which rounds fit before END depends on the seed only.
const END = new Date(Math.floor(Date.now() / 300_000) * 300_000)
const OPTIONS: SeedOptions = { targets: 3, days: DAYS, intervalS: 300, packets: 3, loss: 0.01, seed: 42, end: END }

const DOC_ADDRESS = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$|^2001:db8:/

interface HourSums {
  address: string
  hours: number
  sent: number
  received: number
  rttSum: string
  first: Date
  last: Date
}

async function hourSums(sql: Sql, ids: number[]): Promise<HourSums[]> {
  return sql<HourSums[]>`
    select t.address, count(*)::int as hours, sum(h.sent)::int as sent, sum(h.received)::int as received,
           sum(h.rtt_sum)::text as rtt_sum, min(h.bucket) as first, max(h.bucket) as last
    from samples_1h h join targets t on t.id = h.target_id
    where h.target_id in ${sql(ids)}
    group by t.address order by t.address`
}

describe.each(ENGINES)('seed-history (%s engine)', (engine) => {
  let db: TestDatabase
  let report: SeedReport
  let ids: number[]

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    report = await seedHistory(db.sql, OPTIONS)
    ids = report.targets.map((t) => t.id)
  })
  afterAll(async () => {
    await db?.destroy()
  })

  it('creates disabled, tagged targets on documentation addresses only', async () => {
    const rows = await db.sql<{ address: string; enabled: boolean; tags: string[]; notes: string; intervalS: number; packets: number }[]>`
      select address, enabled, tags, notes, interval_s, packets from targets order by id`
    expect(rows).toHaveLength(3)
    for (const t of rows) {
      expect(t.address).toMatch(DOC_ADDRESS)
      expect(t).toMatchObject({ enabled: false, tags: [SEED_TAG], notes: SEED_NOTE, intervalS: 300, packets: 3 })
    }
    expect(report.rows).toBe(3 * DAYS * 288 * 3)
    expect(report.inserted).toBe(report.rows)
    expect(report.jobs.filter((j) => !j.ok)).toEqual([])
    // Paused while seeding, scheduled again afterwards.
    const jobs = await db.sql<{ relation: string; scheduled: boolean }[]>`
      select hypertable_name as relation, scheduled from timescaledb_information.jobs where proc_name = 'policy_retention'`
    expect(jobs.map((j) => j.relation).sort()).toEqual([...POLICY_RELATIONS].sort())
    expect(jobs.filter((j) => !j.scheduled)).toEqual([])
  })

  it('keeps the whole range in samples_1h, every generated echo counted once', async () => {
    const sums = await hourSums(db.sql, ids)
    for (const t of report.targets) {
      const s = sums.find((x) => x.address === t.address)!
      expect(s.hours).toBeGreaterThanOrEqual(DAYS * 24)
      expect(s.hours).toBeLessThanOrEqual(DAYS * 24 + 1)
      expect(s.sent).toBe(t.echoes)
      expect(s.sent - s.received).toBe(t.lost)
      expect(s.first.getTime()).toBe(Math.floor((END.getTime() - DAYS * DAY) / HOUR) * HOUR)
    }
    // Materialised, not merely computed in real time: only the open hour may be missing.
    const [mat] = await db.sql<{ name: string }[]>`
      select materialization_hypertable_schema || '.' || materialization_hypertable_name as name
      from timescaledb_information.continuous_aggregates where view_name = 'samples_1h'`
    const [m] = await db.sql<{ hours: number }[]>`select count(*)::int as hours from ${db.sql(mat!.name)} where target_id in ${db.sql(ids)}`
    expect(m!.hours).toBeGreaterThanOrEqual(3 * (DAYS * 24 - 1))
  })

  it('leaves samples_1m the last 30 days and raw samples the last 3 days after the policy jobs', async () => {
    const now = Date.now()
    const [m] = await db.sql<{ first: Date; hours: number }[]>`
      select min(bucket) as first, count(distinct date_trunc('hour', bucket))::int as hours from samples_1m`
    expect(m!.first.getTime()).toBeGreaterThanOrEqual(now - 31 * DAY - HOUR)
    expect(m!.first.getTime()).toBeLessThanOrEqual(now - 29 * DAY)
    expect(m!.hours).toBeGreaterThanOrEqual(29 * 24)
    const [r] = await db.sql<{ first: Date; last: Date }[]>`select min(time) as first, max(time) as last from samples`
    expect(r!.first.getTime()).toBeGreaterThanOrEqual(now - 4 * DAY - HOUR)
    expect(r!.first.getTime()).toBeLessThanOrEqual(now - 2 * DAY)
    expect(r!.last.getTime()).toBeLessThan(END.getTime())
  })

  it('has realistic losses, outages, jitter and route changes', async () => {
    const lost = report.targets.reduce((a, t) => a + t.lost, 0)
    expect(lost / report.rows).toBeGreaterThan(0.005)
    expect(lost / report.rows).toBeLessThan(0.1)
    expect(report.targets.reduce((a, t) => a + t.outages, 0)).toBeGreaterThan(0)
    const [h] = await db.sql<{ bad: number; jitter: number; ttls: number; lossy: number }[]>`
      select count(*) filter (where timeouts >= sent / 2)::int as bad,
             sum(jitter_count)::int as jitter,
             count(distinct (target_id, ttl_max))::int as ttls,
             count(*) filter (where timeouts > 0)::int as lossy
      from samples_1h`
    expect(h!.bad).toBeGreaterThan(0) // an outage or a loss burst takes half an hour or more
    expect(h!.lossy).toBeGreaterThan(h!.bad)
    expect(h!.jitter).toBeGreaterThan(0)
    if (report.targets.some((t) => t.routeChanges > 0)) expect(h!.ttls).toBeGreaterThan(3)
    // Log-uniform 1–150 ms baselines: each target has its own level.
    const means = await db.sql<{ mean: number }[]>`
      select sum(rtt_sum)::float8 / sum(received) as mean from samples_1h group by target_id`
    expect(new Set(means.map((x) => Math.round(x.mean / 100))).size).toBe(3)
    for (const x of means) expect(x.mean).toBeGreaterThan(800)
  })

  it('refuses to add history to seeded targets that have some', async () => {
    await expect(seedHistory(db.sql, OPTIONS)).rejects.toThrow(/already has history: pass --reset-seeded/)
  })

  it('is deterministic: reset and the same seed give the same rows and sums', async () => {
    const before = await hourSums(db.sql, ids)
    const again = await seedHistory(db.sql, { ...OPTIONS, resetSeeded: true })
    expect(again.removedTargets).toBe(3)
    expect(again.targets.map((t) => [t.address, t.echoes, t.lost, t.checksum])).toEqual(
      report.targets.map((t) => [t.address, t.echoes, t.lost, t.checksum]),
    )
    expect(new Set(again.targets.map((t) => t.checksum)).size).toBe(3)
    expect(await hourSums(db.sql, again.targets.map((t) => t.id))).toEqual(before)
    const [n] = await db.sql<{ n: number }[]>`select count(*)::int as n from targets`
    expect(n!.n).toBe(3)
  })

  it("refuses to re-aggregate a range where another target's raw rows are gone", async () => {
    const [foreign] = await db.sql<{ id: number }[]>`
      insert into targets (address, enabled) values ('127.0.0.1', false) returning id`
    const t0 = Math.floor((Date.now() - 10 * DAY) / HOUR) * HOUR
    await insertSamples(
      db.sql,
      Array.from({ length: 60 }, (_, i) => ({ time: new Date(t0 + i * 60_000), targetId: foreign!.id, seq: 0, rttUs: 500, ttl: 64, jitterUs: null, status: 0, reporter: null })),
    )
    await db.sql`call refresh_continuous_aggregate('samples_1m', ${new Date(t0)}::timestamptz, ${new Date(t0 + HOUR)}::timestamptz)`
    await db.sql`call refresh_continuous_aggregate('samples_1h', ${new Date(t0)}::timestamptz, ${new Date(t0 + HOUR)}::timestamptz)`
    await db.sql`delete from samples where target_id = ${foreign!.id}` // as retention would
    await expect(seedHistory(db.sql, { ...OPTIONS, resetSeeded: true })).rejects.toThrow(/other targets have aggregated history/)
    const [h] = await db.sql<{ sent: number }[]>`select sum(sent)::int as sent from samples_1h where target_id = ${foreign!.id}`
    expect(h!.sent).toBe(60)
  })
})

describe.each(ENGINES)('seed-history next to live targets (%s engine)', (engine) => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(() => db?.destroy())

  it('seeds a database whose live target started probing in the middle of an hour', async () => {
    // a live target probing every 10 s since 37 minutes past an hour, its tiers materialised
    const [live] = await db.sql<{ id: number }[]>`insert into targets (address) values ('127.0.0.1') returning id`
    const start = Math.floor(Date.now() / HOUR) * HOUR - HOUR + 37 * 60_000
    const rows = Math.floor((Date.now() - start) / 10_000)
    await insertSamples(
      db.sql,
      Array.from({ length: rows }, (_, i) => ({ time: new Date(start + i * 10_000), targetId: live!.id, seq: 0, rttUs: 40, ttl: 64, jitterUs: 1, status: 0, reporter: null })),
    )
    await db.sql`call refresh_continuous_aggregate('samples_1m', ${new Date(start - HOUR)}::timestamptz, ${new Date()}::timestamptz)`
    await db.sql`call refresh_continuous_aggregate('samples_1h', ${new Date(start - HOUR)}::timestamptz, ${new Date()}::timestamptz)`
    const report = await seedHistory(db.sql, { targets: 1, days: 2, intervalS: 300, packets: 1, loss: 0, seed: 1 })
    expect(report.targets).toHaveLength(1)
    // the live target's history is untouched
    const [h] = await db.sql<{ sent: number }[]>`select sum(sent)::int as sent from samples_1h where target_id = ${live!.id}`
    expect(h!.sent).toBe(rows)
  })
})

describe('seed-history command line', () => {
  it('names the networks it really seeds from in `pingscope seed --help`', () => {
    const r = spawnSync(process.execPath, ['dist/cli/index.js', 'seed', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
    expect(r.status).toBe(0)
    for (const net of SEED_NETWORKS) expect(r.stdout).toContain(net)
    expect(r.stdout).not.toContain('198.18')
    // and every address it hands out lies in them
    for (let i = 0; i < 2000; i += 7) expect(seedAddress(i)).toMatch(DOC_ADDRESS)
  })

  it('rejects bad flags with one line and exit code 2, before touching any database', () => {
    const dataDir = tempDir()
    for (const args of [['--days', '-1'], ['--targets', 'many'], ['--packets', '21']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/seed-history.ts', ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 30_000,
      })
      expect(r.status).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(new RegExp(`^seed-history: ${args[0]} must be`))
    }
  })
})
