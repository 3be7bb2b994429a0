// `pingscope alerts rules|channels|silences` and `pingscope incidents`: the built CLI against a real
// database (both engines), the same services and JSON as the API, bad flags refused with exit 2 and one
// line naming the flag, the viewer role refused changes. Channel URLs point at loopback and nothing is
// delivered here (no `serve` runs); incidents are written as the evaluator writes them.
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listIncidentsJson } from '../../src/alerts/incidents.service.js'
import { insertIncident } from '../../src/alerts/incidents.repo.js'
import { hashPassword } from '../../src/auth/passwords.js'
import { createUser } from '../../src/auth/users.repo.js'
import { type TestDatabase, openTestDatabase, tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type CliResult, oneLine, runCli, show } from './cli.js'

interface Doc {
  id: number
  [k: string]: unknown
}

describe.each(ENGINES)('pingscope alerts and incidents (%s engine)', (engine) => {
  let db: TestDatabase
  const home = tempDir('pingscope-home-')
  const viewerHome = tempDir('pingscope-home-')
  let env: Record<string, string>
  let viewerEnv: Record<string, string>
  let targetId: number

  const ok = async (args: string[], e = env): Promise<CliResult> => {
    const r = await runCli(args, e)
    expect(r.code, show(r)).toBe(0)
    return r
  }
  const refused = async (args: string[], e = env): Promise<[number | null, string]> => {
    const r = await runCli(args, e)
    return [r.code, oneLine(r)]
  }

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    await createUser(db.sql, { username: 'admin', passwordHash: await hashPassword('admin-password-1'), role: 'admin' })
    await createUser(db.sql, { username: 'watcher', passwordHash: await hashPassword('viewer-password-1'), role: 'viewer' })
    env = { ...db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config') }
    viewerEnv = { ...db.env, HOME: viewerHome, XDG_CONFIG_HOME: path.join(viewerHome, 'config') }
    for (const [e, user, pw] of [
      [env, 'admin', 'admin-password-1'],
      [viewerEnv, 'watcher', 'viewer-password-1'],
    ] as const) {
      const login = await runCli(['login', '-u', user, '-q'], e, `${pw}\n`)
      expect(login.code, show(login)).toBe(0)
    }
    // A documentation address, paused: data only, never probed.
    targetId = Number((await ok(['target', 'add', '192.0.2.44', '--name', 'edge-44', '--tag', 'core', '-q'])).stdout.trim())
    await ok(['target', 'pause', String(targetId)])
  })
  afterAll(async () => {
    await db?.destroy()
    for (const h of [home, viewerHome]) rmSync(h, { recursive: true, force: true })
  })

  // Each CLI call starts a process and (embedded) joins the engine: tens of them take minutes on a busy machine.
  it('adds, lists, changes and deletes rules, channels and silences as the API stores them', { timeout: 300_000 }, async () => {
    const hook = (await ok(['alerts', 'channels', 'add', 'noc-hook', '--kind', 'webhook', '--url', 'http://127.0.0.1:9/hook', '--json'])).json<Doc & { secret: string }>()
    expect(hook).toMatchObject({ kind: 'webhook', enabled: true, config: { url: 'http://127.0.0.1:9/hook' } })
    expect(hook.secret).toMatch(/^[\w-]{32,}$/)
    const mail = (
      await ok(['alerts', 'channels', 'add', 'oncall', '--kind', 'email', '--smtp-host', '127.0.0.1', '--smtp-port', '2525', '--tls', 'none', '--from', 'ps@example.com', '--to', 'a@example.com', '--to', 'b@example.com', '--smtp-password', 'hunter22', '--json'])
    ).json<Doc>()
    expect(mail.config).toEqual({ host: '127.0.0.1', port: 2525, tls: 'none', password: '****', from: 'ps@example.com', to: ['a@example.com', 'b@example.com'] })

    const rule = (
      await ok(['alerts', 'rules', 'add', 'core-loss', '--tag', 'core', '--condition', 'loss', '--threshold', '5', '--window', '10m', '--for', '2m', '--recover', '5m', '--severity', 'critical', '--channel', String(hook.id), '--channel', String(mail.id), '--json'])
    ).json<Doc>()
    expect(rule).toMatchObject({ name: 'core-loss', scope: 'tag', tag: 'core', target_id: null, condition: 'loss', threshold: 5, window_s: 600, for_s: 120, recover_s: 300, severity: 'critical', muted: false, channel_ids: [hook.id, mail.id], created_by: 'admin' })
    const stored = await db.sql<{ windowS: number; channelIds: number[] }[]>`select window_s, channel_ids from alert_rules where id = ${rule.id}`
    expect(stored).toEqual([{ windowS: 600, channelIds: [hook.id, mail.id] }])

    const down = (await ok(['alerts', 'rules', 'add', 'edge-down', '--target', String(targetId), '--condition', 'outage', '--json'])).json<Doc>()
    expect(down).toMatchObject({ scope: 'target', target_id: targetId, threshold: null, for_s: 60, recover_s: 120, severity: 'warning' })

    const changed = (await ok(['alerts', 'rules', 'set', String(rule.id), '--threshold', '10', '--mute', '--clear-channels', '--json'])).json<Doc>()
    expect(changed).toMatchObject({ threshold: 10, muted: true, channel_ids: [], window_s: 600, tag: 'core' })
    const table = (await ok(['alerts', 'rules', 'list'])).stdout
    expect(table).toMatch(/core-loss\s+tag core\s+loss >= 10 % over 10m\s+2m\s+5m\s+critical\s+-\s+muted/)
    expect(table).toMatch(/edge-down\s+target \d+\s+outage\s+1m\s+2m\s+warning/)
    expect((await ok(['alerts', 'rules', 'list', '-q'])).stdout.trim().split('\n').map(Number)).toEqual([rule.id, down.id])

    const disabled = (await ok(['alerts', 'channels', 'set', String(mail.id), '--disable', '--to', 'noc@example.com', '--json'])).json<Doc>()
    expect(disabled).toMatchObject({ enabled: false, config: { to: ['noc@example.com'], password: '****', port: 2525 } })

    const silence = (await ok(['alerts', 'silences', 'add', '--tag', 'core', '--for', '2h', '--reason', 'core switch upgrade', '--json'])).json<Doc & { starts_at: string; ends_at: string }>()
    expect(silence).toMatchObject({ tag: 'core', target_id: null, active: true, reason: 'core switch upgrade', created_by: 'admin' })
    expect(Date.parse(silence.ends_at) - Date.parse(silence.starts_at)).toBe(2 * 3600_000)
    const later = (await ok(['alerts', 'silences', 'add', '--target', String(targetId), '--from', '2099-01-01T00:00:00Z', '--until', '2099-01-01T04:00:00Z', '--reason', 'future window', '--json'])).json<Doc>()
    expect(later).toMatchObject({ active: false, starts_at: '2099-01-01T00:00:00.000Z', ends_at: '2099-01-01T04:00:00.000Z' })
    expect((await ok(['alerts', 'silences', 'list', '--state', 'active', '-q'])).stdout.trim()).toBe(String(silence.id))
    expect((await ok(['alerts', 'silences', 'end', String(silence.id), '--json'])).json<Doc>()).toMatchObject({ id: silence.id, active: false })
    expect(await refused(['alerts', 'silences', 'end', String(silence.id)])).toEqual([1, expect.stringMatching(/^pingscope: silence \d+ already ended at /)])
    expect(await refused(['alerts', 'silences', 'end', String(later.id)])).toEqual([2, `pingscope: silence ${later.id} has not started yet: delete it with \`pingscope alerts silences delete ${later.id}\``])
    await ok(['alerts', 'silences', 'delete', String(later.id)])
    expect((await ok(['alerts', 'silences', 'list', '--json'])).json<Doc[]>().map((s) => s.id)).toEqual([silence.id])

    await ok(['alerts', 'rules', 'delete', String(down.id)])
    await ok(['alerts', 'channels', 'delete', String(hook.id)])
    expect(await db.sql<{ n: number }[]>`select count(*)::int as n from alert_rules`).toEqual([{ n: 1 }])
    expect(await db.sql<{ id: number }[]>`select id from alert_channels`).toEqual([{ id: mail.id }])
  })

  it('refuses bad flags with exit 2 and one line naming the flag, and the viewer role with exit 1, writing nothing', { timeout: 300_000 }, async () => {
    const before = await db.sql<{ n: number }[]>`select (select count(*) from alert_rules) + (select count(*) from alert_channels) + (select count(*) from silences) as n`
    const cases: [string[], string][] = [
      [['alerts', 'rules', 'add', 'x', '--condition', 'loss'], 'pingscope: --threshold: is required for a loss rule'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'loss', '--threshold', '101'], 'pingscope: --threshold: is a percentage: at most 100'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--threshold', '3'], 'pingscope: --threshold: must be null for an outage rule (it holds while the target has an open outage)'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'jitter'], 'pingscope: --condition: must be one of outage, loss, latency_p95, latency_p50, path_change, probe_missing (got "jitter")'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--window', '5x'], 'pingscope: --window: must be a duration such as 30s, 5m, 2h or 1d (got "5x")'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--window', '30s'], 'pingscope: --window: must be >= 60 (got "30")'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--for', '2d'], 'pingscope: --for: must be <= 86400 (got "172800")'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--tag', 'a', '--all'], 'pingscope: --target, --tag and --all: give one scope only'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--target', '999999'], 'pingscope: --target: no target has id 999999'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--target', '99999999999999999999'], 'pingscope: --target: must be <= 9007199254740991 (got "100000000000000000000")'],
      [['alerts', 'rules', 'add', 'x', '--condition', 'outage', '--channel', '77'], 'pingscope: --channel: no channel has id 77'],
      [['alerts', 'rules', 'set', '1'], 'pingscope: nothing to change: give at least one flag (see --help)'],
      [['alerts', 'rules', 'set', 'one', '--mute'], 'pingscope: <id>: must be a number (got "one")'],
      [['alerts', 'channels', 'add', 'c', '--kind', 'pager'], 'pingscope: --kind: must be one of webhook, slack, email (got "pager")'],
      [['alerts', 'channels', 'add', 'c', '--kind', 'webhook', '--url', 'ftp://127.0.0.1/'], "pingscope: --url: must be an http(s) URL, e.g. 'https://hooks.example/pingscope'"],
      [['alerts', 'channels', 'add', 'c', '--kind', 'webhook', '--url', 'http://127.0.0.1/', '--secret', 'short'], 'pingscope: --secret: must be at least 16 characters'],
      [['alerts', 'channels', 'add', 'c', '--kind', 'email', '--smtp-host', '127.0.0.1', '--from', 'a@example.com'], 'pingscope: --to: is required'],
      [['alerts', 'channels', 'add', 'c', '--kind', 'email', '--smtp-host', 'fe80::1%eth0', '--from', 'a@example.com', '--to', 'b@example.com'], 'pingscope: --smtp-host: must be a hostname or an IP address'],
      [['alerts', 'channels', 'add', 'c', '--kind', 'email', '--smtp-host', 'h', '--smtp-port', '70000', '--from', 'a@example.com', '--to', 'b@example.com'], 'pingscope: --smtp-port: Too big: expected number to be <=65535'],
      [['alerts', 'channels', 'set', '1', '--enable', '--disable'], 'pingscope: --enable and --disable: give one'],
      [['alerts', 'silences', 'add', '--reason', 'x', '--for', '1h'], 'pingscope: --target or --tag: give one'],
      [['alerts', 'silences', 'add', '--tag', 'core', '--reason', 'x'], 'pingscope: --until or --for: give one'],
      [['alerts', 'silences', 'add', '--tag', 'core', '--reason', 'x', '--until', '0000-01-01T00:00:00Z'], 'pingscope: --until/--for: must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z (got "0000-01-01T00:00:00Z")'],
      [['alerts', 'silences', 'add', '--tag', 'core', '--reason', 'x', '--from', 'soon', '--for', '1h'], 'pingscope: --from: must be an ISO 8601 time with a zone, e.g. 2025-01-31T12:00:00Z (got "soon")'],
      [['alerts', 'silences', 'add', '--tag', 'core', '--reason', 'x', '--from', '2099-01-02T00:00:00Z', '--until', '2099-01-01T00:00:00Z'], 'pingscope: --until/--for: must be after starts_at'],
      [['alerts', 'silences', 'add', '--tag', 'has space', '--reason', 'x', '--for', '1h'], 'pingscope: --tag: may contain letters, digits and . _ : / - only (got "has space")'],
      [['alerts', 'silences', 'list', '--state', 'later'], 'pingscope: --state: must be one of active, upcoming, expired, all (got "later")'],
      [['incidents', 'open', '--severity', 'huge'], 'pingscope: --severity: must be one of critical, warning, info (got "huge")'],
      [['incidents', 'history', '--since', 'ages'], 'pingscope: --since: must be a duration such as 15m, 1h, 24h, 30d or 1y (got "ages")'],
      [['incidents', 'history', '--limit', '0'], 'pingscope: --limit: must be >= 1 (got "0")'],
      [['incidents', 'show', '-1'], 'pingscope: <id>: must be >= 1 (got "-1")'],
      [['incidents', 'note', '1', ''], 'pingscope: <text>: must be at least 1 characters (got "")'],
      // `open` is the default command: a word it does not know reaches it as an extra argument.
      [['incidents', 'frobnicate'], "pingscope: too many arguments for 'open'. Expected 0 arguments but got 1. (see --help)"],
    ]
    const got = []
    for (const [args] of cases) got.push(await refused(args))
    expect(got).toEqual(cases.map(([, line]) => [2, line]))

    const viewer: [string[], string][] = [
      [['alerts', 'rules', 'add', 'v', '--condition', 'outage'], 'pingscope: `pingscope alerts rules add` requires the admin role'],
      [['alerts', 'silences', 'add', '--tag', 'core', '--for', '1h', '--reason', 'x'], 'pingscope: `pingscope alerts silences add` requires the admin role'],
      [['incidents', 'ack', '1'], 'pingscope: `pingscope incidents ack` requires the admin role'],
    ]
    const viewerGot = []
    for (const [args] of viewer) viewerGot.push(await refused(args, viewerEnv))
    expect(viewerGot).toEqual(viewer.map(([, line]) => [1, line]))
    await ok(['alerts', 'rules', 'list'], viewerEnv)
    await ok(['incidents'], viewerEnv)
    const after = await db.sql<{ n: number }[]>`select (select count(*) from alert_rules) + (select count(*) from alert_channels) + (select count(*) from silences) as n`
    expect(after).toEqual(before)
  })

  it('lists open incidents and history as the API does, shows one, acknowledges it and keeps notes', { timeout: 300_000 }, async () => {
    const rule = (await ok(['alerts', 'rules', 'add', 'edge-outage', '--target', String(targetId), '--condition', 'outage', '--severity', 'critical', '--json'])).json<Doc>()
    const hour = 3600_000
    const base = Date.now() - 5 * hour
    const incident = (startH: number) =>
      insertIncident(db.sql, {
        ruleId: rule.id,
        ruleName: 'edge-outage',
        condition: 'outage',
        severity: 'critical',
        threshold: null,
        targetId,
        targetAddress: '192.0.2.44',
        targetName: 'edge-44',
        startedAt: new Date(base + startH * hour),
        firedAt: new Date(base + startH * hour + 60_000),
        peak: null,
        notified: true,
      })
    const closedId = (await incident(0))!
    await db.sql`update incidents set ended_at = ${new Date(base + hour + 30 * 60_000)}, end_reason = 'recovered', peak = 600 where id = ${closedId}`
    const openId = (await incident(3))!

    expect((await ok(['incidents', '-q'])).stdout.trim()).toBe(String(openId))
    const history = (await ok(['incidents', 'history', '--json'])).json<Doc[]>()
    expect(history.map((i) => i.id)).toEqual([openId, closedId])
    const api = await listIncidentsJson(db.sql, { state: 'all', limit: 100, offset: 0 }, new Date())
    const stable = (docs: Doc[]) => docs.map(({ duration_s: _d, ...rest }) => rest)
    expect(stable(history)).toEqual(stable(api.items as unknown as Doc[]))
    expect(history[1]).toMatchObject({ ongoing: false, duration_s: 5400, end_reason: 'recovered', peak: 600, unit: 's' })
    // --since keeps incidents still open at some point in the window: the closed one ended 3.5 h ago.
    expect((await ok(['incidents', 'history', '--since', '2h', '-q'])).stdout.trim()).toBe(String(openId))
    expect((await ok(['incidents', 'history', '--since', '4h', '-q'])).stdout.trim().split('\n').map(Number)).toEqual([openId, closedId])

    const table = (await ok(['incidents'])).stdout.split('\n')
    expect(table[0]).toMatch(/^ID\s+SEVERITY\s+STATE\s+RULE\s+TARGET\s+STARTED\s+FOR\s+PEAK\s+ACK$/)
    expect(table[1]).toMatch(new RegExp(`^\\s*${openId}\\s+critical\\s+open\\s+edge-outage\\s+edge-44 \\(192\\.0\\.2\\.44\\)\\s+\\S+Z\\s+2h( [1-5]?\\dm)?\\s+-\\s+-$`))

    const acked = (await ok(['incidents', 'ack', String(openId), '--json'])).json<Doc>()
    expect(acked).toMatchObject({ id: openId, acknowledged_by: 'admin' })
    const again = (await ok(['incidents', 'ack', String(openId), '--json'])).json<Doc>()
    expect(again.acknowledged_at).toBe(acked.acknowledged_at)
    expect((await ok(['incidents', 'open', '--unacked', '-q'])).stdout.trim()).toBe('')
    await ok(['incidents', 'note', String(openId), 'provider ticket NET-4411'])
    const shown = (await ok(['incidents', 'show', String(openId), '--json'])).json<Doc & { notes: { by: string; text: string }[]; notifications: unknown[] }>()
    expect(shown.notes.map((n) => [n.by, n.text])).toEqual([['admin', 'provider ticket NET-4411']])
    expect(shown.notifications).toEqual([])
    const human = (await ok(['incidents', 'show', String(openId)])).stdout
    expect(human).toMatch(/^acknowledged\s+by admin at /m)
    expect(human).toMatch(/^\s+\S+Z admin: provider ticket NET-4411$/m)
    expect(await refused(['incidents', 'ack', '424242'])).toEqual([1, 'pingscope: Incident not found'])
  })
})
