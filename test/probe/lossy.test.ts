import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestDatabase, openTestDatabase } from '../helpers/db.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { type ProbeHarness, sleep, startProbe } from '../helpers/probe.js'
import { ENGINES } from '../helpers/engines.js'

const run = promisify(execFile)

// A lab host whose echo replies come from a userspace responder that delays each by D = 20 ms and drops
// exactly L = 10 % (per block of 100 requests). The probe engine — scheduler, raw ICMP adapter, writer —
// must measure D and L from what it stores in the database.
describe.each(ENGINES)('measuring a delayed, lossy host (%s engine)', (engine) => {
  let db: TestDatabase
  let lab: Lab
  let probe: ProbeHarness | undefined
  const D = 20
  const L = 0.1
  const N = 20
  let addresses: string[] = []

  beforeAll(async () => {
    lab = await startLab(['lossy'], { delayMs: D, loss: L })
    // Twenty addresses on the lossy host so that twenty targets (addresses are unique) share its responder.
    const base = lab.lossy.split('.').slice(0, 3).join('.')
    addresses = [lab.lossy]
    for (let i = 0; i < N - 1; i++) {
      const a = `${base}.${100 + i}`
      await run('ip', ['-n', `${lab.prefix}lossy`, 'addr', 'add', `${a}/24`, 'dev', 'eth0'])
      addresses.push(a)
    }
    db = await openTestDatabase({ engine })
  })
  afterAll(async () => {
    await probe?.stop()
    await db?.destroy()
    await lab?.stop()
  })

  it(`finds loss within 0.5 pp of ${L * 100} % and median RTT within 0.3 ms of ${D} ms over ≥ 2,000 echoes`, { timeout: 90_000 }, async () => {
    await db.sql`
      insert into targets (address, interval_s, packets, timeout_ms)
      select a, 1, 5, 1000 from unnest(${`{${addresses.join(',')}}`}::text[]) a`
    probe = await startProbe(db.sql, { packetSpacingMs: 100 })
    while (probe.rounds.reduce((n, r) => n + r.sent, 0) < 2100) await sleep(500)
    await probe.stop()
    const [m] = await db.sql<{ n: number; lost: number; medianMs: number; timeouts: number }[]>`
      select count(*)::int as n, count(*) filter (where rtt_us is null)::int as lost,
             count(*) filter (where status = 1)::int as timeouts,
             (percentile_cont(0.5) within group (order by rtt_us)) / 1000.0 as median_ms
      from samples`
    const loss = m!.lost / m!.n
    console.log(`lossy host: ${m!.n} echoes, loss ${(loss * 100).toFixed(2)} %, median ${m!.medianMs.toFixed(3)} ms`)
    expect(m!.n).toBeGreaterThanOrEqual(2000)
    expect(m!.timeouts).toBe(m!.lost) // dropped requests are timeouts, not errors
    expect(Math.abs(loss - L)).toBeLessThanOrEqual(0.005)
    expect(Math.abs(m!.medianMs - D)).toBeLessThanOrEqual(0.3)
    // every target saw the same host: loss spread across all of them, not one dead target
    const per = await db.sql<{ lost: number }[]>`
      select count(*) filter (where rtt_us is null)::int as lost from samples group by target_id`
    expect(per).toHaveLength(N)
    probe = undefined
  })
})
