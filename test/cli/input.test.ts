// Invalid input: bad addresses and values, unknown flags and commands give exit 2 and one line naming
// the flag; a CSV import adds its valid rows whole and reports each rejected row with its reason.
// Addresses are loopback or malformed on purpose: nothing here resolves a name or leaves the machine.
import { execFile } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/auth/passwords.js'
import { createUser } from '../../src/auth/users.repo.js'
import { type TestDatabase, openTestDatabase, tempDir } from '../helpers/db.js'
import { CLI } from '../helpers/process.js'
import { oneLine, runCli, show } from './cli.js'

describe('pingscope input validation and CSV import', () => {
  let db: TestDatabase
  const home = tempDir('pingscope-home-')
  let env: Record<string, string>
  const counts = async () =>
    (await db.sql<{ targets: number; events: number }[]>`select (select count(*)::int from targets) as targets, (select count(*)::int from events) as events`)[0]!

  beforeAll(async () => {
    db = await openTestDatabase()
    await createUser(db.sql, { username: 'admin', passwordHash: await hashPassword('admin-password-1'), role: 'admin' })
    env = { DATA_DIR: db.dataDir, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config') }
    const login = await runCli(['login', '-u', 'admin', '-q'], env, 'admin-password-1\n')
    expect(login.code, show(login)).toBe(0)
  })
  afterAll(async () => {
    await db?.destroy()
    rmSync(home, { recursive: true, force: true })
  })

  it('refuses bad values and flags with exit 2 and one line naming them, writing nothing', async () => {
    const cases: [string[], string][] = [
      [['target', 'add', 'not_an_ip'], 'pingscope: <ip>: value is not a valid IPv4 or IPv6 address or hostname (got "not_an_ip")'],
      [['target', 'add', 'fe80::zz'], 'pingscope: <ip>: value is not a valid IPv4 or IPv6 address or hostname (got "fe80::zz")'],
      [['target', 'add', '127.0.9.1', '--frequency', '0'], 'pingscope: --frequency: must be >= 1 (got "0")'],
      [['target', 'add', '127.0.9.1', '--frequency', '99999'], 'pingscope: --frequency: must be <= 3600 (got "99999")'],
      [['target', 'add', '127.0.9.1', '--frequency', 'often'], 'pingscope: --frequency: must be a number (got "often")'],
      [['target', 'add', '127.0.9.1', '--packets', '2.5'], 'pingscope: --packets: must be a whole number (got "2.5")'],
      [['target', 'add', '127.0.9.1', '--tag', 'has space'], 'pingscope: --tag: may contain letters, digits and . _ : / - only (got "has space")'],
      [['target', 'add', '127.0.9.1', '--url', 'ftp://x'], `pingscope: --url: must be an http(s) URL, e.g. 'https://router.example/' (got "ftp://x")`],
      [['target', 'add', '127.0.9.1', '--bogus'], "pingscope: unknown option '--bogus' (see --help)"],
      [['target', 'add'], "pingscope: missing required argument 'ip' (see --help)"],
      [['target', 'frobnicate'], "pingscope: unknown command 'frobnicate' (see --help)"],
      [['target', 'list', '--state', 'sideways'], 'pingscope: --state: must be one of active, paused, up, down, unknown (got "sideways")'],
      [['target', 'show', 'x1'], 'pingscope: <id>: must be a number (got "x1")'],
      [['target', 'update', '1'], expect.stringMatching(/^pingscope: nothing to change: give at least one of --frequency/) as unknown as string],
      [['logs', '1', '--limit', '0'], 'pingscope: --limit: must be >= 1 (got "0")'],
      [['insights', '1', '--window', 'forever'], 'pingscope: --window: must be a duration such as 15m, 1h, 24h, 30d or 1y (got "forever")'],
      [['insights', '1', '--window', '6y'], 'pingscope: --window: must be at most 5 years (got "6y")'],
      [['export', '1', '--from', 'yesterday'], 'pingscope: --from: must be an ISO 8601 time with a zone, e.g. 2025-01-31T12:00:00Z (got "yesterday")'],
      [['traceroute', '1', '--max-hops', '65'], 'pingscope: --max-hops: must be <= 64 (got "65")'],
      [['users', 'add', 'x y', '--role', 'admin'], 'pingscope: <username>: may contain letters, digits and . _ @ - only (got "x y")'],
      [['tokens', 'create', 'ci', '--expires-days', '0'], 'pingscope: --expires-days: must be >= 1 (got "0")'],
    ]
    const results = await Promise.all(cases.map(([args]) => runCli(args, env)))
    results.forEach((r, i) => {
      expect([r.code, oneLine(r)], `${cases[i]![0].join(' ')}\n${show(r)}`).toEqual([2, cases[i]![1]])
      expect(r.stdout).toBe('')
    })
    expect(await counts()).toEqual({ targets: 0, events: 0 })
  })

  it('answers --help everywhere with examples, on stdout, exit 0', async () => {
    for (const args of [[], ['target'], ['target', 'add'], ['target', 'import'], ['insights'], ['export'], ['users', 'add'], ['tokens', 'create'], ['login']]) {
      const r = await runCli([...args, '--help'], env)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/^Usage: pingscope/)
      expect(r.stdout).toContain('Examples:')
      expect(r.stdout).toContain('--json') // the global options are shown
    }
  })

  it('refuses to delete without --yes when stdin is not a terminal', async () => {
    const add = await runCli(['target', 'add', '127.0.9.2', '--quiet'], env)
    const id = add.stdout.trim()
    expect(id).toMatch(/^\d+$/)
    const r = await runCli(['target', 'delete', id], env)
    expect([r.code, oneLine(r)]).toEqual([2, 'pingscope: --yes: required to delete when stdin is not a terminal'])
    expect((await runCli(['target', 'show', id, '--json'], env)).json()).toMatchObject({ ip: '127.0.9.2' })
    const dup = await runCli(['target', 'add', '127.0.9.2'], env)
    expect([dup.code, oneLine(dup)]).toEqual([1, 'pingscope: IP already monitored'])
    expect((await runCli(['target', 'delete', id, '--yes', '--quiet'], env)).code).toBe(0)
  })

  it('imports valid CSV rows whole and reports each rejected row with its line and reason', async () => {
    const before = await counts()
    const file = path.join(home, 'targets.csv')
    writeFileSync(
      file,
      [
        'ip,frequency,name,tags,url,notes,packets',
        '127.0.10.1,5,core,dc1;core,https://core.example/,"rack 4, top",3',
        '127.0.10.2,0,zero,,,,', // frequency 0
        'not_an_ip,5,bad,,,,', // not an address (and no DNS lookup)
        '127.0.10.3,99999,,,,,', // frequency too high
        '127.0.10.4,,,bad tag,,,', // tag
        '127.0.10.5,,,,,,,extra', // too many fields
        '',
        '2001:DB8::A,,,,,,', // normalised
        '127.0.10.1,,again,,,,', // already imported above
        '127.0.10.6,,"two\nlines",,,,25', // packets > 20, name over two lines
        '127.0.10.7',
      ].join('\r\n'),
    )
    const r = await runCli(['target', 'import', file, '--json'], env)
    expect(r.code, show(r)).toBe(1)
    expect(oneLine(r)).toBe('pingscope: 7 of 10 rows rejected')
    const report = r.json<{ rows: number; accepted: { line: number; id: number; ip: string }[]; rejected: { line: number; ip: string | null; reason: string }[] }>()
    expect(report.rows).toBe(10)
    expect(report.accepted.map((a) => [a.line, a.ip])).toEqual([[2, '127.0.10.1'], [9, '2001:db8::a'], [13, '127.0.10.7']])
    expect(report.rejected).toEqual([
      { line: 3, ip: '127.0.10.2', reason: 'frequency: must be >= 1 (got "0")' },
      { line: 4, ip: 'not_an_ip', reason: 'ip: value is not a valid IPv4 or IPv6 address or hostname' },
      { line: 5, ip: '127.0.10.3', reason: 'frequency: must be <= 3600 (got "99999")' },
      { line: 6, ip: '127.0.10.4', reason: 'tags: may contain letters, digits and . _ : / - only (got "bad tag")' },
      { line: 7, ip: '127.0.10.5', reason: '8 fields, but the header has 7' },
      { line: 10, ip: '127.0.10.1', reason: 'IP already monitored' },
      { line: 11, ip: '127.0.10.6', reason: 'packets: must be <= 20 (got "25")' },
    ])

    // Accepted rows are complete, each with its event by the importing user; rejected rows left nothing.
    const rows = await db.sql`
      select t.address, t.interval_s, t.name, t.tags, t.url, t.notes, t.packets, e.type, e.actor
      from targets t join events e on e.target_id = t.id where t.address like '127.0.10.%' or t.address = '2001:db8::a' order by t.id`
    expect(rows).toEqual([
      { address: '127.0.10.1', intervalS: 5, name: 'core', tags: ['dc1', 'core'], url: 'https://core.example/', notes: 'rack 4, top', packets: 3, type: 'created', actor: 'admin' },
      { address: '2001:db8::a', intervalS: 1, name: null, tags: [], url: null, notes: null, packets: 1, type: 'created', actor: 'admin' },
      { address: '127.0.10.7', intervalS: 1, name: null, tags: [], url: null, notes: null, packets: 1, type: 'created', actor: 'admin' },
    ])
    expect(await counts()).toEqual({ targets: before.targets + 3, events: before.events + 3 })

    // Human report, from stdin
    const human = await runCli(['target', 'import', '-'], env, 'ip,name\n127.0.10.8,eight\n127.0.10.8,again\n')
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/^Imported 1 of 2 rows; 1 rejected:\nLINE\s+IP\s+REASON\n\s+3\s+127\.0\.10\.8\s+IP already monitored\n$/)
    expect((await runCli(['target', 'import', '-', '--quiet'], env, 'ip\n127.0.10.9\n')).code).toBe(0)

    // An unusable header stops everything before the first row.
    const before2 = await counts()
    for (const [csv, message] of [
      ['address,name\n127.0.10.20,x\n', 'pingscope: stdin: unknown column "address" in the header (expected ip, frequency, name, tags, url, notes, packets, timeout_ms)'],
      ['name\nx\n', 'pingscope: stdin: the header has no ip column'],
      ['', 'pingscope: stdin: no header row (expected columns ip,frequency,name,tags,url,notes,packets,timeout_ms)'],
    ] as const) {
      const bad = await runCli(['target', 'import', '-'], env, csv)
      expect([bad.code, oneLine(bad)]).toEqual([2, message])
    }
    const missing = await runCli(['target', 'import', path.join(home, 'nope.csv')], env)
    expect([missing.code, oneLine(missing)]).toEqual([1, `pingscope: cannot read ${path.join(home, 'nope.csv')}: ENOENT`])
    expect(await counts()).toEqual(before2)
  })

  it('seed: writes paused, tagged synthetic history through the seed script, with its limits', async () => {
    const bad = await runCli(['seed', '--targets', '0'], env)
    expect([bad.code, oneLine(bad)]).toEqual([2, 'pingscope: --targets must be >= 1 (got "0")'])
    const r = await runCli(['seed', '--targets', '1', '--days', '1', '--interval-s', '600', '--packets', '2', '--json'], env)
    expect(r.code, show(r)).toBe(0)
    const report = r.json<{ targets: { id: number; echoes: number }[]; rows: number; from: string; to: string }>()
    expect(report.targets).toHaveLength(1)
    expect(report.rows).toBe(288) // 144 rounds of 2 echoes
    expect(report.to).toMatch(/Z$/)
    const seeded = (await runCli(['target', 'list', '--tag', 'seed', '--json'], env)).json<{ id: number; is_active: boolean }[]>()
    expect(seeded).toEqual([expect.objectContaining({ id: report.targets[0]!.id, is_active: false })])
  })

  it('colours its tables on a terminal only, and not with NO_COLOR or --no-color', async () => {
    // util-linux `script` gives the command a pseudo-terminal as stdout.
    const onTty = async (extra: Record<string, string>, flags = '') =>
      (await promisify(execFile)('script', ['-qec', `${process.execPath} ${CLI} target list ${flags}`, '/dev/null'], { env: { PATH: process.env.PATH ?? '', ...env, ...extra } })).stdout
    expect(await onTty({})).toContain('\x1b[1mID')
    expect(await onTty({ NO_COLOR: '1' })).not.toContain('\x1b[')
    expect(await onTty({}, '--no-color')).not.toContain('\x1b[')
  })
})
