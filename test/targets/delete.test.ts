import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_TAG } from '../../src/seed/generator.js'
import { seedHistory } from '../../src/seed/seed.service.js'
import type { Sql } from '../../src/db/open.js'
import { deleteTarget } from '../../src/targets/targets.service.js'
import { type TestDatabase, holdPolicyJobs, openTestDatabase } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'

// Issue 9: deleting a busy target whose history is compressed. A DELETE that decompresses more than
// timescaledb.max_tuples_decompressed_per_dml_transaction rows (100,000) fails, and the rollup tiers
// kept the rows of deleted targets. Here 1.5 M samples of one target, every chunk of every tier
// compressed, go through the real path, next to a target whose history must not change.

const HOUR = 3_600_000
const DAY = 24 * HOUR
const END = Math.floor(Date.now() / DAY) * DAY
const FROM = END - 3.5 * DAY
const BUSY_ROWS = 3.5 * 86_400 * 5 // a round of 5 echoes every second

/** Rounds of `packets` echoes every `everyS` seconds over [FROM, END), one statement per day (≤ 432k rows). */
async function insertRounds(sql: Sql, targetId: number, everyS: number, packets: number): Promise<void> {
  for (let from = FROM; from < END; from = Math.floor(from / DAY + 1) * DAY) {
    const rounds = Math.ceil((Math.min(END, Math.floor(from / DAY + 1) * DAY) - from) / 1000 / everyS)
    // Every 97th echo is lost, the rest spread over 1–6 ms.
    await sql`
      insert into samples (time, target_id, seq, rtt_us, ttl, jitter_us, status)
      select ${new Date(from)}::timestamptz + make_interval(secs => r * ${everyS}), ${targetId}, q,
             case when (r + q) % 97 = 0 then null else 1000 + (r * 7919 + q * 104729) % 5000 end,
             case when (r + q) % 97 = 0 then null else 57 end,
             case when (r + q) % 97 = 0 then null else (r * 31 + q) % 400 end,
             case when (r + q) % 97 = 0 then 1 else 0 end
      from generate_series(0, ${rounds - 1}) r, generate_series(0, ${packets - 1}) q`
  }
}

async function refreshTiers(sql: Sql, from: Date, to: Date): Promise<void> {
  // Procedures that refuse a transaction block: one statement each, outside sql.begin.
  await sql`call refresh_continuous_aggregate('samples_1m', ${from}::timestamptz, ${to}::timestamptz)`
  await sql`call refresh_continuous_aggregate('samples_1h', ${from}::timestamptz, ${to}::timestamptz)`
}

async function compressAll(sql: Sql): Promise<void> {
  for (const relation of ['samples', 'samples_1m', 'samples_1h']) {
    await sql`select compress_chunk(c, if_not_compressed => true) from show_chunks(${relation}::regclass) c`
  }
}

/** Chunks of a hypertable or of a continuous aggregate's materialization hypertable, and how many are compressed. */
async function chunkStates(sql: Sql, relation: string): Promise<{ chunks: number; compressed: number }> {
  const [r] = await sql<{ chunks: number; compressed: number }[]>`
    with h as (
      select hypertable_schema as s, hypertable_name as n from timescaledb_information.hypertables
      where hypertable_name = ${relation}
      union all
      select materialization_hypertable_schema, materialization_hypertable_name
      from timescaledb_information.continuous_aggregates where view_name = ${relation}
    )
    select count(*)::int as chunks, count(*) filter (where c.is_compressed)::int as compressed
    from h join timescaledb_information.chunks c on c.hypertable_schema = h.s and c.hypertable_name = h.n`
  return r!
}

interface Totals {
  raw: number
  rawRtt: string
  m1: number
  m1Sent: number
  m1Rtt: string
  h1: number
  h1Sent: number
  h1Rtt: string
}

/** A target's rows in every tier, read through the views (materialized and real-time parts). */
async function totals(sql: Sql, targetId: number): Promise<Totals> {
  const [r] = await sql<Totals[]>`
    select
      (select count(*)::int from samples where target_id = ${targetId}) as raw,
      (select coalesce(sum(rtt_us), 0)::text from samples where target_id = ${targetId}) as raw_rtt,
      m1.n as m1, m1.sent as m1_sent, m1.rtt as m1_rtt, h1.n as h1, h1.sent as h1_sent, h1.rtt as h1_rtt
    from (select count(*)::int as n, coalesce(sum(sent), 0)::int as sent, coalesce(sum(rtt_sum), 0)::text as rtt
          from samples_1m where target_id = ${targetId}) m1,
         (select count(*)::int as n, coalesce(sum(sent), 0)::int as sent, coalesce(sum(rtt_sum), 0)::text as rtt
          from samples_1h where target_id = ${targetId}) h1`
  return r!
}

const NONE: Totals = { raw: 0, rawRtt: '0', m1: 0, m1Sent: 0, m1Rtt: '0', h1: 0, h1Sent: 0, h1Rtt: '0' }

describe.each(ENGINES)('deleting a target with compressed history (%s engine)', (engine) => {
  let db: TestDatabase

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(() => db?.destroy())

  it('deletes 1.5 M compressed samples and the rollup rows of one target, and nothing of another', { timeout: 600_000 }, async () => {
    const { sql } = db
    const [busy, quiet] = await sql<{ id: number }[]>`
      insert into targets (address, name, enabled, interval_s, packets)
      values ('192.0.2.50', 'busy', false, 1, 5), ('192.0.2.51', 'quiet', false, 60, 3)
      returning id`
    await insertRounds(sql, busy!.id, 1, 5)
    await insertRounds(sql, quiet!.id, 60, 3)
    await refreshTiers(sql, new Date(FROM), new Date(END))
    await compressAll(sql)

    const days = Math.ceil((END - FROM) / DAY)
    expect(await chunkStates(sql, 'samples')).toEqual({ chunks: days, compressed: days })
    const stats = await sql<{ status: string; bytes: string | null }[]>`
      select compression_status as status, after_compression_total_bytes::text as bytes from chunk_compression_stats('samples')`
    expect(stats).toHaveLength(days)
    for (const s of stats) expect(s.status).toBe('Compressed')
    for (const tier of ['samples_1m', 'samples_1h']) {
      const t = await chunkStates(sql, tier)
      expect(t.chunks).toBeGreaterThan(0)
      expect(t.compressed).toBe(t.chunks)
    }

    const before = await totals(sql, busy!.id)
    expect(before).toMatchObject({ raw: BUSY_ROWS, m1: 3.5 * 1440, m1Sent: BUSY_ROWS, h1: 3.5 * 24, h1Sent: BUSY_ROWS })
    expect(before.m1Rtt).toBe(before.rawRtt)
    expect(before.h1Rtt).toBe(before.rawRtt)
    const quietBefore = await totals(sql, quiet!.id)
    expect(quietBefore).toMatchObject({ raw: 3.5 * 1440 * 3, m1: 3.5 * 1440, h1: 3.5 * 24 })

    const t0 = performance.now()
    await deleteTarget(sql, busy!.id, 'admin')
    const ms = performance.now() - t0
    console.log(`[${engine}] deleteTarget of ${BUSY_ROWS.toLocaleString('en-US')} compressed samples: ${(ms / 1000).toFixed(2)} s`)

    expect(await totals(sql, busy!.id)).toEqual(NONE)
    expect(await totals(sql, quiet!.id)).toEqual(quietBefore)
    // A refresh recomputes whatever the deletes invalidated: nothing may come back, nothing else may go.
    await refreshTiers(sql, new Date(FROM), new Date(END))
    expect(await totals(sql, busy!.id)).toEqual(NONE)
    expect(await totals(sql, quiet!.id)).toEqual(quietBefore)

    expect(await sql`select id from targets where id = ${busy!.id}`).toHaveLength(0)
    const events = await sql<{ type: string; actor: string; data: { address: string; name: string } }[]>`
      select type, actor, data from events where target_id = ${busy!.id} order by id`
    expect(events).toEqual([{ type: 'deleted', actor: 'admin', data: { address: '192.0.2.50', name: 'busy' } }])
  })
})

describe.each(ENGINES)('seed --reset-seeded over compressed history (%s engine)', (engine) => {
  let db: TestDatabase

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(() => db?.destroy())

  it('deletes the seeded targets and their compressed rows, then seeds again', { timeout: 600_000 }, async () => {
    const { sql } = db
    // 3 targets × 3 days × a round of 5 echoes every 10 s = 388,800 rows, compressed after the seed's own
    // policy run: far more than the 100,000 a single DML transaction may decompress by default.
    const first = await seedHistory(sql, { targets: 3, days: 3, intervalS: 10, packets: 5, loss: 0.01, seed: 7 })
    // the seed re-enabled the retention jobs it paused: hold them again (server lane)
    if (db.mode === 'server') await holdPolicyJobs(sql)
    await compressAll(sql)
    const raw = await chunkStates(sql, 'samples')
    expect(raw.compressed).toBe(raw.chunks)
    const oldIds = first.targets.map((t) => t.id)
    const [kept] = await sql<{ n: number }[]>`select count(*)::int as n from samples where target_id in ${sql(oldIds)}`
    expect(kept!.n).toBeGreaterThan(300_000)

    const t0 = performance.now()
    const second = await seedHistory(sql, { targets: 1, days: 0.5, intervalS: 60, packets: 1, loss: 0, seed: 8, resetSeeded: true })
    console.log(`[${engine}] seed --reset-seeded over ${kept!.n.toLocaleString('en-US')} compressed samples: ${((performance.now() - t0) / 1000).toFixed(2)} s`)

    expect(second.removedTargets).toBe(3)
    const [left] = await sql<{ raw: number; m1: number; h1: number; targets: number }[]>`
      select (select count(*)::int from samples where target_id in ${sql(oldIds)}) as raw,
             (select count(*)::int from samples_1m where target_id in ${sql(oldIds)}) as m1,
             (select count(*)::int from samples_1h where target_id in ${sql(oldIds)}) as h1,
             (select count(*)::int from targets where id in ${sql(oldIds)}) as targets`
    expect(left).toEqual({ raw: 0, m1: 0, h1: 0, targets: 0 })
    const now = await sql<{ tags: string[]; n: number }[]>`
      select t.tags, (select count(*)::int from samples s where s.target_id = t.id) as n from targets t`
    expect(now).toEqual([{ tags: [SEED_TAG], n: second.targets[0]!.echoes }])
  })
})
