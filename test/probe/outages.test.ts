import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestDatabase, openTestDatabase } from '../helpers/db.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { type ProbeHarness, sleep, startProbe } from '../helpers/probe.js'
import { ENGINES } from '../helpers/engines.js'

const run = promisify(execFile)

// Real ICMP into network namespaces this test creates: a host that never answers (until we let it),
// and an address whose router answers destination-unreachable.
describe.each(ENGINES)('loss, unreachables and outages in the network lab (%s engine)', (engine) => {
  let db: TestDatabase
  let lab: Lab
  let probe: ProbeHarness | undefined
  beforeAll(async () => {
    lab = await startLab(['silent', 'unreachable'])
    db = await openTestDatabase({ engine })
  })
  afterAll(async () => {
    await probe?.stop()
    await db?.destroy()
    await lab?.stop()
  })

  it('records 100 % loss, opens an outage after 3 lost rounds and closes it on the first reply', { timeout: 60_000 }, async () => {
    await db.sql`
      insert into targets (address, interval_s, packets, timeout_ms)
      values (${lab.silent}, 1, 2, 300), (${lab.unreachable}, 1, 1, 500), ('127.0.3.1', 1, 1, 500)`
    probe = await startProbe(db.sql, { outageOpenRounds: 3, packetSpacingMs: 50 })
    await sleep(5500)

    const [silent] = await db.sql`select id from targets where address = ${lab.silent}`
    const [unr] = await db.sql`select id from targets where address = ${lab.unreachable}`
    const stats = await db.sql<{ targetId: number; n: number; lost: number; timeouts: number; unreachable: number; reporters: string[] }[]>`
      select target_id, count(*)::int as n, count(*) filter (where rtt_us is null)::int as lost,
             count(*) filter (where status = 1)::int as timeouts, count(*) filter (where status = 2)::int as unreachable,
             array_remove(array_agg(distinct host(reporter)), null) as reporters
      from samples group by target_id order by target_id`
    const s = stats.find((r) => r.targetId === silent!.id)!
    expect(s.n).toBeGreaterThanOrEqual(8)
    expect(s.lost).toBe(s.n) // 100 % loss
    expect(s.timeouts).toBe(s.n)
    const u = stats.find((r) => r.targetId === unr!.id)!
    expect(u.lost).toBe(u.n)
    expect(u.unreachable).toBeGreaterThan(0) // classified, with the router that said so
    expect(u.reporters).toEqual([lab.unreachableRouter])
    const loopback = stats.find((r) => r.targetId !== silent!.id && r.targetId !== unr!.id)!
    expect(loopback.lost).toBe(0)

    const open = await db.sql`select target_id, started_at, ended_at, cause from outages order by target_id`
    expect(open.map((o) => o.targetId).sort()).toEqual([silent!.id, unr!.id].sort())
    expect(open.every((o) => o.endedAt === null)).toBe(true)
    expect(open.find((o) => o.targetId === unr!.id)!.cause).toContain(lab.unreachableRouter)
    expect(open.find((o) => o.targetId === silent!.id)!.cause).toBe('timeout')

    // The silent host starts answering: the next reply closes its outage.
    await run('ip', ['netns', 'exec', `${lab.prefix}silent`, 'sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=0'])
    const answeredAt = Date.now()
    let closed: { endedAt: Date | null; startedAt: Date; lostRounds: number } | undefined
    while (Date.now() - answeredAt < 5000) {
      ;[closed] = await db.sql<{ endedAt: Date | null; startedAt: Date; lostRounds: number }[]>`
        select ended_at, started_at, lost_rounds from outages where target_id = ${silent!.id}`
      if (closed?.endedAt) break
      await sleep(200)
    }
    expect(closed?.endedAt).toBeInstanceOf(Date)
    expect(Date.now() - answeredAt).toBeLessThan(3000)
    expect(closed!.lostRounds).toBeGreaterThanOrEqual(3)
    const events = await db.sql`select type, message from events where target_id = ${silent!.id} order by id`
    expect(events.map((e) => e.type)).toEqual(['outage_open', 'outage_close'])
    expect(events[0]!.message).toMatch(/^Outage: \d+ consecutive rounds lost, no reply before the timeout$/)
    // and it is measured as up again
    await sleep(1500)
    const [after] = await db.sql`
      select count(*) filter (where rtt_us is not null)::int as ok from samples
      where target_id = ${silent!.id} and time > ${new Date(answeredAt)}`
    expect(after!.ok).toBeGreaterThan(0)
  })
})
