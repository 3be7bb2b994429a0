// The whole CLI flow as an operator runs it, on one database (embedded or server) while `pingscope serve`
// runs on it: login → add → list → pause → resume → insights → export → traceroute (the network lab's
// chain) → delete, once with human output and once with --json, watching the server's scheduler react
// to each change. Probes go to loopback addresses and to the lab's namespaces only.
import { readFileSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { timelineEventOut } from '../../src/events/events.schema.js'
import { insightsOut } from '../../src/insights/insights.schema.js'
import { logOut } from '../../src/samples/samples.schema.js'
import { targetOut } from '../../src/targets/targets.schema.js'
import { tracerouteOut } from '../../src/traceroute/traceroute.schema.js'
import { databaseKey } from '../../cli/credentials.js'
import { type TestStore, createTestStore, tempDir, testConfig } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { type Spawned, freePort, spawnCli, waitForHealthy } from '../helpers/process.js'
import { type CliResult, runCli, show, until } from './cli.js'

const ADMIN_PASSWORD = 'flow-admin-password'
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe.each(ENGINES)('pingscope CLI while `pingscope serve` runs on the same database (%s engine)', (engine) => {
  let store: TestStore
  let key: string
  const home = tempDir('pingscope-home-')
  let serve: Spawned
  let lab: Lab
  let api: string

  beforeAll(async () => {
    // Already migrated (a copy of the run's template): serve on a fresh database is cli-serve.test.ts's subject.
    store = await createTestStore(engine, tempDir(), { migrated: true })
    key = databaseKey(testConfig(store.env))
    const port = await freePort()
    api = `http://127.0.0.1:${port}`
    // LOG_LEVEL=warn: the CLI's own logs stay at warn too, so stderr holds only errors.
    serve = spawnCli(['serve'], { ...store.env, PORT: String(port), ADMIN_PASSWORD, LOG_LEVEL: 'warn', HOME: home })
    ;[lab] = await Promise.all([startLab(['chain']), waitForHealthy(api, 90_000)])
  })

  afterAll(async () => {
    serve?.child.kill('SIGTERM')
    if (serve) expect((await serve.exited).code).toBe(0)
    await lab?.stop()
    await store?.remove()
    rmSync(home, { recursive: true, force: true })
  })

  /** A user's shell: the database settings and a config directory of their own. */
  const shell = (config: string) => {
    const env = { ...store.env, HOME: home, XDG_CONFIG_HOME: path.join(home, config) }
    const cli = async (args: string[], input = '') => {
      const r = await runCli(args, env, input)
      if (r.code !== 0) throw new Error(`pingscope ${args.join(' ')} failed:\n${show(r)}`)
      expect(r.stderr).toBe('')
      return r
    }
    return { env, cli, credentials: path.join(home, config, 'pingscope', 'credentials.json') }
  }

  it('human output: login → add → list → pause → resume → insights → export → traceroute → delete', async () => {
    const { cli, credentials } = shell('human')
    const login = await cli(['login', '--username', 'admin'], `${ADMIN_PASSWORD}\n`)
    expect(login.stdout).toMatch(/^Logged in as admin \(admin\)/)
    expect(statSync(credentials).mode & 0o777).toBe(0o600)
    expect(statSync(path.dirname(credentials)).mode & 0o777).toBe(0o700)

    // add: the server starts probing it within about 2 s (1 s reload + the first 1 s round)
    const t0 = Date.now()
    const add = await cli(['target', 'add', '127.0.7.1', '--frequency', '1', '--name', 'human', '--tag', 'cli'])
    const id = Number(/^Started tracking 127\.0\.7\.1 \(id (\d+)\)$/.exec(add.stdout.trim())?.[1])
    expect(id).toBeGreaterThan(0)
    const sampleLines = async () => (await cli(['logs', String(id), '--limit', '1000'])).stdout.trim().split('\n').slice(1).filter((l) => l.trim())
    const [first] = await until('the first sample', async () => {
      const lines = await sampleLines()
      return lines.length > 0 && lines
    }, 10_000)
    // Probed within about 2 s of the command (its start-up included): the probe's own timestamp.
    expect(Date.parse(first!.trim().split(/\s+/)[0]!) - t0).toBeLessThan(3000)

    const list = await cli(['target', 'list'])
    const [header, ...rows] = list.stdout.trimEnd().split('\n')
    expect(header).toMatch(/^ID\s+IP\s+NAME\s+STATE\s+SINCE\s+EVERY\s+PKTS\s+LAST RTT\s+LAST SAMPLE\s+TAGS\s+SITES$/)
    expect(rows.find((r) => r.includes('127.0.7.1'))).toMatch(new RegExp(`^\\s*${id}\\s+127\\.0\\.7\\.1\\s+human\\s+up\\s+\\d+ (s|min|h|d)\\s+1s\\s+1\\s+[\\d.]+ ms\\s+\\S+Z\\s+cli\\s+all$`))
    expect(list.stdout).not.toContain('\x1b[') // no colours when stdout is not a terminal

    // pause: samples stop (after the reload and a round in flight), resume: they start again
    expect((await cli(['target', 'pause', String(id)])).stdout.trim()).toBe(`Tracking paused (target ${id})`)
    await new Promise((r) => setTimeout(r, 3000))
    const newest = async () => (await sampleLines()).at(-1)!.split(/\s+/)[0]!
    const lastBeforePause = await newest()
    await new Promise((r) => setTimeout(r, 3000))
    expect(await newest()).toBe(lastBeforePause)
    expect((await cli(['target', 'list', '--state', 'paused'])).stdout).toMatch(new RegExp(`\\b${id}\\s+127\\.0\\.7\\.1\\s+human\\s+paused`))

    expect((await cli(['target', 'resume', String(id)])).stdout.trim()).toBe(`Tracking resumed (target ${id})`)
    await until('samples after resuming', async () => (await newest()) > lastBeforePause, 8000)

    const insights = await cli(['insights', String(id), '--window', '15m'])
    expect(insights.stdout).toMatch(new RegExp(`^target\\s+${id} 127\\.0\\.7\\.1$`, 'm'))
    expect(insights.stdout).toMatch(/^window\s+\S+Z → \S+Z \(15 min, raw tier, \d+ s buckets\)$/m)
    const sent = Number(/^echoes\s+(\d+) sent, 0 lost/m.exec(insights.stdout)?.[1])
    expect(sent).toBeGreaterThanOrEqual(4)
    expect(insights.stdout).toMatch(/^latency\s+avg [\d.]+ ms · min [\d.]+ ms · max [\d.]+ ms$/m)

    const file = path.join(home, 'human.csv')
    const exp = await cli(['export', String(id), '-o', file])
    const csv = readFileSync(file, 'utf8').split('\r\n').filter(Boolean)
    expect(exp.stdout.trim()).toBe(`Exported ${csv.length - 1} samples of 127.0.7.1 to ${file}`)
    expect(csv[0]).toBe('time,target_id,target_ip,latency_ms,hops,packet_loss,site')
    expect(csv[1]).toMatch(new RegExp(`^\\S+Z,${id},127\\.0\\.7\\.1,[\\d.]+,0,0,default$`))
    expect((await cli(['export', String(id)])).stdout.startsWith('time,target_id,')).toBe(true) // to stdout

    const trId = Number(/\(id (\d+)\)/.exec((await cli(['target', 'add', lab.chain.end, '--frequency', '5'])).stdout)?.[1])
    const trace = await cli(['traceroute', String(trId), '--max-hops', '10', '--timeout', '10'])
    const [head, hopHeader, ...hops] = trace.stdout.trimEnd().split('\n')
    expect(head).toMatch(new RegExp(`^traceroute to ${lab.chain.end.replace(/\./g, '\\.')}: 4 hops, reached, \\d+ ms$`))
    expect(hopHeader).toMatch(/^HOP\s+ADDRESS\s+RTT$/)
    expect(hops.map((h) => h.trim().split(/\s+/)[1])).toEqual(lab.chain.hops)
    expect((await cli(['traceroute', String(trId), '--history'])).stdout).toContain(lab.chain.hops.join(' → '))

    const events = await cli(['events', String(id)])
    expect(events.stdout).toMatch(/start\s+admin\s+Tracking resumed/)
    expect(events.stdout).toMatch(/stop\s+admin\s+Tracking paused/)
    expect(events.stdout).toMatch(/created\s+admin\s+Tracking started for 127\.0\.7\.1/)

    for (const t of [id, trId]) expect((await cli(['target', 'delete', String(t), '--yes'])).stdout).toMatch(new RegExp(`^Deleted target ${t} `))
    const gone = await runCli(['target', 'show', String(id)], shell('human').env)
    expect([gone.code, gone.stderr]).toEqual([1, 'pingscope: Target not found\n'])
  })

  it('--json output: the same flow, one JSON document per command with the API field names and numbers', async () => {
    const { cli } = shell('json')
    const who = (await cli(['login', '-u', 'admin', '--json'], ADMIN_PASSWORD)).json<Record<string, unknown>>()
    expect(who).toMatchObject({ username: 'admin', role: 'admin', via: 'jwt', database: key })
    expect(who.expires_at).toMatch(ISO_Z)
    // The stored JWT is the API's own kind: the API accepts it.
    const token = (JSON.parse(readFileSync(shell('json').credentials, 'utf8')) as { databases: Record<string, { token: string }> }).databases[key]!.token
    const authz = { authorization: `Bearer ${token}` }
    const get = async (url: string) => {
      const res = await fetch(`${api}${url}`, { headers: authz })
      expect(res.status, url).toBe(200)
      return res
    }

    const t0 = Date.now()
    const added = (await cli(['--json', 'target', 'add', '127.0.7.2', '--frequency', '1', '--packets', '2'])).json<{ message: string; id: number }>()
    expect(added).toEqual({ message: 'Started tracking 127.0.7.2', id: expect.any(Number) })
    const id = added.id
    const logs = async () => (await cli(['logs', String(id), '--limit', '1000', '--json'])).json<{ time: string }[]>()
    const [first] = await until('the first samples', async () => {
      const rows = await logs()
      return rows.length > 0 && rows
    }, 10_000)
    expect(Date.parse(first!.time) - t0).toBeLessThan(3000)
    for (const l of await logs()) expect(() => logOut.strict().parse(l)).not.toThrow()

    const list = (await cli(['target', 'list', '--json', '--tag', 'none-such'])).json<unknown[]>()
    expect(list).toEqual([])
    const all = (await cli(['target', 'list', '--json'])).json<Record<string, unknown>[]>()
    const mine = all.find((t) => t.id === id)!
    expect(() => targetOut.strict().parse(mine)).not.toThrow()
    expect(mine).toMatchObject({ ip: '127.0.7.2', frequency: 1, packets: 2, is_active: true, state: 'up' })
    expect(mine.created_at).toMatch(ISO_Z)
    // The same document the API serves (the last sample may have moved on in between).
    const fromApi = ((await (await get('/targets/')).json()) as Record<string, unknown>[]).find((t) => t.id === id)!
    expect({ ...mine, last_sample: null, last_reply_at: null }).toEqual({ ...fromApi, last_sample: null, last_reply_at: null })

    expect((await cli(['target', 'pause', String(id), '--json'])).json()).toEqual({ message: 'Tracking paused', id })
    await new Promise((r) => setTimeout(r, 3000))
    const countAtPause = (await logs()).length
    await new Promise((r) => setTimeout(r, 3000))
    expect((await logs()).length).toBe(countAtPause)
    expect((await cli(['target', 'show', String(id), '--json'])).json()).toMatchObject({ id, is_active: false, state: 'paused' })
    expect((await cli(['target', 'resume', String(id), '--json'])).json()).toEqual({ message: 'Tracking resumed', id })
    await until('samples after resuming', async () => (await logs()).length > countAtPause, 8000)

    // insights: the API's numbers for the same fixed window. It ends at the newest stored sample: the
    // server writes samples in time order, so none older than that can still arrive.
    const from = new Date(t0 - 60_000).toISOString()
    const to = (await logs()).at(-1)!.time
    const insights = (await cli(['insights', String(id), '--from', from, '--to', to, '--json'])).json<Record<string, unknown>>()
    expect(() => insightsOut.parse(insights)).not.toThrow()
    expect(insights).toMatchObject({ target_id: id, target_ip: '127.0.7.2', tier: 'raw', loss_count: 0 })
    expect(insights.sample_count).toBeGreaterThanOrEqual(4)
    expect(insights).toEqual(await (await get(`/targets/${id}/insights?from=${from}&to=${to}`)).json())

    // export: the API's CSV, byte for byte
    const file = path.join(home, 'json.csv')
    const exported = (await cli(['export', String(id), '--from', from, '--to', to, '-o', file, '--json'])).json<Record<string, unknown>>()
    const csv = readFileSync(file, 'utf8')
    expect(exported).toEqual({ file, target_id: id, target_ip: '127.0.7.2', rows: csv.split('\r\n').length - 2, bytes: Buffer.byteLength(csv) })
    expect(csv).toBe(await (await get(`/targets/${id}/logs/export?from=${from}&to=${to}`)).text())
    expect(exported.rows).toBe(insights.sample_count) // every echo in the window, once

    const trId = (await cli(['target', 'add', lab.chain.end, '--frequency', '5', '--json'])).json<{ id: number }>().id
    const trace = (await cli(['traceroute', String(trId), '--max-hops', '10', '--timeout', '10', '--json'])).json<Record<string, unknown>>()
    expect(() => tracerouteOut.strict().parse(trace)).not.toThrow()
    expect(trace).toMatchObject({ target_id: trId, target_ip: lab.chain.end, max_hops: 10, hop_count: 4, reached: true })
    expect((trace.hops as { ip: string }[]).map((h) => h.ip)).toEqual(lab.chain.hops)
    // stored like the API's: the API lists it
    expect(await (await get(`/targets/${trId}/traceroutes`)).json()).toEqual([trace])

    const events = (await cli(['events', String(id), '--json'])).json<Record<string, unknown>[]>()
    for (const e of events) expect(() => timelineEventOut.strict().parse(e)).not.toThrow()
    expect(events.map((e) => [e.event_type, e.actor])).toEqual([['start', 'admin'], ['stop', 'admin'], ['created', 'admin']])
    expect(events).toEqual(await (await get(`/events?target_id=${id}`)).json())
    // The target's own list says the same, without the timeline's target fields.
    const own = (await (await get(`/targets/${id}/events`)).json()) as Record<string, unknown>[]
    expect(own).toEqual(events.map(({ target_name: _n, target_address: _a, target_exists: _e, ...rest }) => rest))
    // Every target's: the global timeline, filtered by type.
    const created = (await cli(['events', '--type', 'created', '--since', '1h', '--json'])).json<{ target_id: number; event_type: string }[]>()
    expect(created.map((e) => e.target_id)).toEqual(expect.arrayContaining([id, trId]))
    expect(new Set(created.map((e) => e.event_type))).toEqual(new Set(['created']))

    for (const t of [id, trId]) expect((await cli(['target', 'delete', String(t), '--yes', '--json'])).json()).toEqual({ message: 'Target deleted', id: t })
    const left = (await cli(['target', 'list', '--json'])).json<{ id: number }[]>().map((t) => t.id)
    expect(left).not.toContain(id)
    const missing: CliResult = await runCli(['logs', String(id), '--json'], shell('json').env)
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'pingscope: Target not found\n'])
  })
})
