import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestDatabase, openTestDatabase } from '../helpers/db.js'
import { type ProbeHarness, sleep, sqlFromOtherProcess, startProbe } from '../helpers/probe.js'
import { ENGINES } from '../helpers/engines.js'

describe.each(ENGINES)('probe scheduler on loopback (real ICMP, real database) (%s engine)', (engine) => {
  let db: TestDatabase
  let probe: ProbeHarness | undefined
  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(async () => {
    await probe?.stop()
    await db?.destroy()
  })

  it('measures loopback targets in microseconds with no loss, IPv4 and IPv6', async () => {
    await db.sql`
      insert into targets (address, interval_s, packets, timeout_ms)
      select '127.0.1.' || g, 1, 3, 1000 from generate_series(1, 20) g`
    await db.sql`insert into targets (address, interval_s, packets, timeout_ms) values ('::1', 1, 3, 1000)`
    probe = await startProbe(db.sql)
    await sleep(3500)
    await probe.stop()
    const stats = probe.scheduler.stats()
    expect(stats.targets).toBe(21)
    expect(probe.writer.stats()).toMatchObject({ buffered: 0, dropped: 0 })
    const rows = await db.sql<
      { address: string; n: number; lost: number; notOk: number; rttMedian: number; rttMin: number; whole: number; ttl: number | null }[]
    >`
      select t.address, count(*)::int as n, count(*) filter (where s.rtt_us is null)::int as lost,
             count(*) filter (where s.status <> 0)::int as not_ok, min(s.rtt_us) as rtt_min,
             percentile_cont(0.5) within group (order by s.rtt_us) as rtt_median,
             count(*) filter (where s.rtt_us % 1000 = 0)::int as whole, max(s.ttl) as ttl
      from samples s join targets t on t.id = s.target_id group by t.address`
    expect(rows).toHaveLength(21)
    for (const r of rows) {
      expect(r.n, r.address).toBeGreaterThanOrEqual(9) // ≥ 3 rounds of 3 echoes in 3.5 s
      expect(r.n % 3, r.address).toBe(0)
      expect(r.lost, r.address).toBe(0)
      expect(r.notOk, r.address).toBe(0)
      // microseconds, not milliseconds: loopback answers in well under a millisecond
      expect(r.rttMedian, r.address).toBeLessThan(1000)
      expect(r.rttMin, r.address).toBeGreaterThanOrEqual(0)
    }
    // millisecond timestamps would make nearly every RTT a multiple of 1,000 µs (mostly 0)
    const echoes = rows.reduce((n, r) => n + r.n, 0)
    const whole = rows.reduce((n, r) => n + r.whole, 0)
    expect(whole / echoes).toBeLessThan(0.02)
    expect(rows.find((r) => r.address === '127.0.1.1')!.ttl).toBe(64) // the reply's IP header TTL
    expect(rows.find((r) => r.address === '::1')!.ttl).toBeNull()
    // each round has seq 0..2 at increasing times
    const [seqs] = await db.sql`select array_agg(seq order by time) as seqs from samples where target_id = 1`
    expect((seqs!.seqs as number[]).slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2])
    // jitter is the difference between consecutive replies of one target
    const jit = await db.sql<{ rttUs: number; jitterUs: number | null }[]>`
      select rtt_us, jitter_us from samples where target_id = 1 order by time, seq`
    expect(jit[0]!.jitterUs).toBeNull()
    for (let i = 1; i < jit.length; i++) expect(jit[i]!.jitterUs).toBe(Math.abs(jit[i]!.rttUs - jit[i - 1]!.rttUs))
    // the schedule is absolute: slots of a 1 s target are whole seconds apart and never drift; a slot
    // skipped under load is counted as missed, not shifted
    const due = probe.rounds.filter((r) => r.targetId === 1).map((r) => r.due)
    expect(due.length).toBeGreaterThanOrEqual(3)
    let skipped = 0
    for (let i = 1; i < due.length; i++) {
      const gap = due[i]! - due[i - 1]!
      expect(gap % 1000).toBe(0)
      skipped += gap / 1000 - 1
    }
    expect(skipped).toBeLessThanOrEqual(stats.missedRounds)
    expect(stats.lagP99Ms).not.toBeNull()
    probe = undefined
  })

  it('follows targets added, re-timed, paused and deleted by another process within 2 s', async () => {
    await db.sql`truncate targets restart identity cascade`
    await db.sql`truncate samples`
    await db.sql`insert into targets (address, interval_s, packets) values ('127.0.2.1', 1, 1)`
    probe = await startProbe(db.sql, { reloadMs: 1000 })
    const socket = db.connectTo
    const roundsOf = (id: number, after: number) => probe!.rounds.filter((r) => r.targetId === id && r.at > after)
    await sleep(1500)

    // added by another process → probed within 2 s
    const addAt = Date.now()
    await sqlFromOtherProcess(socket, "insert into targets (address, interval_s, packets) values ('127.0.2.2', 1, 1)")
    await sleep(2000)
    const first = roundsOf(2, addAt)[0]
    expect(first).toBeDefined()
    expect(first!.at - addAt).toBeLessThan(2000)

    // re-timed 1 s → 3 s: from the next round on, rounds are 3 s apart
    const retimeAt = Date.now()
    await sqlFromOtherProcess(socket, 'update targets set interval_s = 3 where id = 1')
    await sleep(8000)
    const after = roundsOf(1, retimeAt + 2000).map((r) => r.due)
    expect(after.length).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBe(3000)

    // paused → no round starts later than 2 s after the change
    const pauseAt = Date.now()
    await sqlFromOtherProcess(socket, 'update targets set enabled = false where id = 2')
    await sleep(3000)
    expect(roundsOf(2, pauseAt + 2000)).toHaveLength(0)
    expect(roundsOf(2, pauseAt - 1000).length).toBeGreaterThan(0) // it was running until then

    // resumed → probed again within 2 s; deleted → stops within 2 s
    const resumeAt = Date.now()
    await sqlFromOtherProcess(socket, 'update targets set enabled = true where id = 2')
    await sleep(2000)
    expect(roundsOf(2, resumeAt).length).toBeGreaterThan(0)
    expect(roundsOf(2, resumeAt)[0]!.at - resumeAt).toBeLessThan(2000)
    const deleteAt = Date.now()
    await sqlFromOtherProcess(socket, 'delete from targets where id = 2')
    await sleep(3000)
    expect(roundsOf(2, deleteAt + 2000)).toHaveLength(0)
    await probe.stop()
    probe = undefined
  })
})
