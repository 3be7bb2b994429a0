import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Database, type Sql, openDatabase } from '../../src/db/open.js'
import { type LeaseKeeper, createLeaseKeeper } from '../../src/probe/leases.js'
import { listProbes } from '../../src/probe/probes.repo.js'
import { type TestDatabase, openTestDatabase, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'

// The lease protocol against the real engines, with in-process keepers and no ICMP: who holds what,
// in which order a holder stops probing and another starts, and what a dead or duplicate probe does.
// Outcomes are awaited, not timed, so a loaded machine only makes the test slower.

const HEARTBEAT_MS = 500
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** `sql` for one keeper, whose queries fail while `cut` is on: that probe alone loses the database. */
function cuttable(sql: Sql): { sql: Sql; cut: (on: boolean) => void } {
  let cut = false
  // Rejects only when awaited: a fragment built while cut (and never awaited alone) leaves no unhandled rejection.
  const fail = () => ({
    then: (_ok: unknown, rejected?: (e: Error) => unknown) => rejected?.(new Error('connection cut by the test')),
  })
  const proxy = new Proxy(sql, {
    apply: (target, self, args) => (cut ? fail() : Reflect.apply(target, self, args)),
    get: (target, key) => (key === 'begin' && cut ? fail : Reflect.get(target, key)),
  })
  return { sql: proxy, cut: (on) => (cut = on) }
}

interface Probe {
  keeper: LeaseKeeper
  /** What the keeper told the scheduler to stop probing, when, and whether the database still had it as ours then. */
  drains: { ids: number[]; at: number; stillOurs: number }[]
  claims: number
}

describe.each(ENGINES)('probe leases (%s engine)', (engine) => {
  let db: TestDatabase
  const started: Probe[] = []
  const extra: Database[] = []

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    await db.sql`insert into targets (address, interval_s) select '127.0.9.' || g, 1 from generate_series(1, 12) g`
  })
  afterEach(async () => {
    for (const p of started.splice(0)) await p.keeper.stop().catch(() => {})
    for (const d of extra.splice(0)) await d.close().catch(() => {})
    await db.sql`delete from probes`
  })
  afterAll(async () => {
    await db?.destroy()
  })

  function startProbe(name: string, sql = db.sql): Probe & { ready: Promise<void> } {
    const probe: Probe = { keeper: undefined as unknown as LeaseKeeper, drains: [], claims: 0 }
    probe.keeper = createLeaseKeeper({
      sql,
      log: testLog,
      identity: { name, site: 'default', version: 'test', hostname: 'test-host', pid: process.pid, heartbeatMs: HEARTBEAT_MS, capacity: null },
      pollMs: 200,
      drain: async (ids) => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from probe_leases l join probes p on p.id = l.probe_id
          where p.name = ${name} and l.target_id = any(${ids}::int[]) and l.expires_at > now()`
        probe.drains.push({ ids, at: Date.now(), stillOurs: row!.n })
      },
      onChange: () => probe.claims++,
    })
    started.push(probe)
    return Object.assign(probe, { ready: probe.keeper.start() })
  }

  const holders = () =>
    db.sql<{ name: string; n: number }[]>`
      select p.name, count(*)::int as n from probe_leases l join probes p on p.id = l.probe_id
      where l.expires_at > now() group by p.name order by p.name`

  it('splits the targets evenly, and a probe gives leases back only after it stopped probing them', async () => {
    const a = startProbe('probe-a')
    await a.ready
    expect(a.keeper.status()).toMatchObject({ registered: true, held: 12, share: 12, liveProbes: 1 })
    const b = startProbe('probe-b')
    await b.ready
    const c = startProbe('probe-c')
    await c.ready
    await waitFor('an even split', async () => JSON.stringify(await holders()) === JSON.stringify([{ name: 'probe-a', n: 4 }, { name: 'probe-b', n: 4 }, { name: 'probe-c', n: 4 }]))
    // every target exactly once (the primary key allows no more), every one covered
    const [cover] = await db.sql<{ n: number }[]>`select count(distinct target_id)::int as n from probe_leases where expires_at > now()`
    expect(cover!.n).toBe(12)
    // a gave back 8 then 4... and each time the scheduler was told first, while the leases were still a's
    const given = a.drains.flatMap((d) => d.ids)
    expect(given.length).toBe(8)
    for (const d of a.drains) expect(d.stillOurs).toBe(d.ids.length)
    // /health's view of the fleet
    const probes = await listProbes(db.sql)
    expect(probes.map((p) => [p.name, p.state, p.assigned])).toEqual([
      ['probe-a', 'live', 4],
      ['probe-b', 'live', 4],
      ['probe-c', 'live', 4],
    ])
    expect(Math.max(...probes.map((p) => p.heartbeatAgeS))).toBeLessThan(5)
  })

  it('moves a dead probe\u2019s targets to the others after its leases expire; it stops probing them before', async () => {
    const a = startProbe('probe-a')
    await a.ready
    // b on a connection of its own, cut below: to the database it is a probe that stopped heartbeating
    const own = await openDatabase(db.config, { log: testLog, max: 1 })
    extra.push(own)
    const b = startProbe('probe-b', own.sql)
    await b.ready
    await waitFor('an even split', async () => (await holders()).map((h) => h.n).join() === '6,6')
    const bTargets = (await db.sql<{ targetId: number }[]>`
      select target_id from probe_leases l join probes p on p.id = l.probe_id where p.name = 'probe-b' and l.expires_at > now()`).map((r) => r.targetId)
    const cutAt = Date.now()
    await own.sql.end({ timeout: 1 })
    await waitFor('a to hold all 12', async () => (await holders()).map((h) => `${h.name}:${h.n}`).join() === 'probe-a:12')
    const takenAt = Date.now()
    // b's own guard stopped it probing (2 heartbeats after its last renewal) before a could claim (3)
    const bGaveUp = b.drains.find((d) => d.ids.length === 6)
    expect(bGaveUp).toBeDefined()
    expect(bGaveUp!.at).toBeLessThan(takenAt)
    expect(b.keeper.status().expired).toBe(6)
    expect(takenAt - cutAt).toBeLessThan(3 * HEARTBEAT_MS + 2000)
    expect(a.keeper.status().held).toBe(12)
    // a took them as a handover: it knows when b was done with each (so it keeps their slots)
    for (const id of bTargets) expect(a.keeper.view.doneAt(id)).not.toBeNull()
    const states = Object.fromEntries((await listProbes(db.sql)).map((p) => [p.name, p.state]))
    expect(states).toEqual({ 'probe-a': 'live', 'probe-b': 'lost' })
  })

  it('probes on through a database outage when alone in its site, and renews what nobody claimed', async () => {
    const link = cuttable(db.sql)
    const solo = startProbe('probe-solo', link.sql)
    await solo.ready
    expect(solo.keeper.status()).toMatchObject({ held: 12, liveProbes: 1 })
    link.cut(true)
    await sleep(4 * HEARTBEAT_MS) // past the guard (2 heartbeats) and the leases' expiry (3)
    expect(solo.drains).toEqual([]) // nobody could take over: it never stopped probing
    expect(solo.keeper.status()).toMatchObject({ held: 12, expired: 0, lastError: 'connection cut by the test' })
    link.cut(false)
    await waitFor('the leases renewed', async () => (await holders()).map((h) => `${h.name}:${h.n}`).join() === 'probe-solo:12')
    await waitFor('the error cleared', () => solo.keeper.status().lastError === null)
    expect(solo.drains).toEqual([])
  })

  it('hands over at once on a clean stop, and drops the lease of a paused target', async () => {
    const a = startProbe('probe-a')
    await a.ready
    const b = startProbe('probe-b')
    await b.ready
    await waitFor('an even split', async () => (await holders()).map((h) => h.n).join() === '6,6')
    const stopAt = Date.now()
    await b.keeper.stop()
    expect(b.drains.flatMap((d) => d.ids)).toHaveLength(6)
    const [gone] = await db.sql`select stopped_at, assigned from probes where name = 'probe-b'`
    expect(gone!.stoppedAt).not.toBeNull()
    expect(gone!.assigned).toBe(0)
    // claimed at a's next look, well before b's leases would have expired
    await waitFor('a to hold all 12', () => a.keeper.status().held === 12)
    expect(Date.now() - stopAt).toBeLessThan(3 * HEARTBEAT_MS)

    await db.sql`update targets set enabled = false where id = 3`
    await waitFor('the paused target\u2019s lease to go', async () => (await db.sql`select 1 from probe_leases where target_id = 3`).length === 0)
    await waitFor('a to drop it', () => !a.keeper.view.holds(3))
    await db.sql`update targets set enabled = true where id = 3`
    // resumed: a new lease, nobody held it before, so the scheduler probes it at once
    await waitFor('a to claim it again', () => a.keeper.view.holds(3))
    expect(a.keeper.view.doneAt(3)).toBeNull()
  })

  it('refuses a name a live probe holds, and takes back the name of a stopped one', async () => {
    const a = startProbe('probe-a')
    await a.ready
    const twin = startProbe('probe-a')
    await expect(twin.ready).rejects.toThrow(/PROBE_NAME "probe-a" is in use by a live probe \(host test-host, pid \d+, heartbeat [0-9.]+ s ago\)/)
    expect(a.keeper.status().held).toBe(12)
    await a.keeper.stop()
    const again = startProbe('probe-a')
    await again.ready
    expect(again.keeper.status()).toMatchObject({ registered: true, held: 12 })
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from probes where name = 'probe-a'`
    expect(row!.n).toBe(1)
  })
})
