// Logging in and being refused: the first admin without a login, the stored credential (0600, keyed by
// database), and every way a credential stops working (none, garbage, another secret, expired, disabled
// user, revoked token) plus the viewer role, each refused with exit 1 and one line naming the problem.
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadJwtSecret } from '../../src/auth/bootstrap.js'
import { type TestDatabase, openTestDatabase, tempDir } from '../helpers/db.js'
import { freePort } from '../helpers/process.js'
import { oneLine, runCli, show } from './cli.js'
import { ENGINES } from '../helpers/engines.js'
import { databaseKey } from '../../cli/credentials.js'

const ADMIN = { username: 'root', password: 'root-password-123' }
const VIEWER = { username: 'watcher', password: 'watcher-password-123' }

describe.each(ENGINES)('pingscope login, credentials and roles (%s engine)', (engine) => {
  let db: TestDatabase
  const home = tempDir('pingscope-home-')
  let key: string
  const envFor = (config: string, extra: Record<string, string> = {}) => ({ ...db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, config), ...extra })
  const credentialsOf = (config: string) => path.join(home, config, 'pingscope', 'credentials.json')
  const ok = async (args: string[], env: Record<string, string>, input = '') => {
    const r = await runCli(args, env, input)
    if (r.code !== 0) throw new Error(`pingscope ${args.join(' ')}:\n${show(r)}`)
    return r
  }
  /** Rewrites the stored token of a config directory. */
  const storeToken = (config: string, token: string, type = 'jwt') => {
    const file = credentialsOf(config)
    const content = JSON.parse(readFileSync(file, 'utf8')) as { databases: Record<string, Record<string, unknown>> }
    Object.assign(content.databases[key]!, { token, type })
    writeFileSync(file, JSON.stringify(content))
  }

  beforeAll(async () => {
    db = await openTestDatabase({ engine }) // this process runs the engine; the CLI processes connect to it
    key = databaseKey(db.config)
  })
  afterAll(async () => {
    await db?.destroy()
    rmSync(home, { recursive: true, force: true })
  })

  it('adds the first admin without a login, and only while there are no users', async () => {
    const viewerFirst = await runCli(['users', 'add', 'someone'], envFor('boot'), 'password-123\n')
    expect([viewerFirst.code, oneLine(viewerFirst)]).toEqual([1, 'pingscope: the first user must be an admin: add --role admin'])
    const first = await ok(['users', 'add', ADMIN.username, '--role', 'admin', '--json'], envFor('boot'), `${ADMIN.password}\n`)
    expect(first.json()).toMatchObject({ username: ADMIN.username, role: 'admin', disabled: false })
    const second = await runCli(['users', 'add', 'intruder', '--role', 'admin'], envFor('boot'), 'password-123\n')
    expect([second.code, oneLine(second)]).toEqual([1, `pingscope: not logged in to ${key}: run \`pingscope login\``])
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from users`
    expect(row!.n).toBe(1)
  })

  it('refuses every command without a login, before touching the database', async () => {
    for (const args of [['whoami'], ['target', 'list'], ['target', 'add', '127.0.8.1'], ['logs', '1'], ['users', 'list'], ['tokens', 'list']]) {
      const r = await runCli(args, envFor('nobody'))
      expect([r.code, oneLine(r)], args.join(' ')).toEqual([1, `pingscope: not logged in to ${key}: run \`pingscope login\``])
    }
    // Credentials belong to one database: a server database (nothing listens there) is another one.
    const port = await freePort()
    const elsewhere = await runCli(['whoami'], { ...envFor('nobody'), DATABASE_URL: `postgres://u:secret@127.0.0.1:${port}/other` })
    expect([elsewhere.code, oneLine(elsewhere)]).toEqual([1, `pingscope: not logged in to postgres://127.0.0.1:${port}/other: run \`pingscope login\``])
    const unreachable = await runCli(['login', '-u', 'x'], { ...envFor('nobody'), DATABASE_URL: `postgres://u:secret@127.0.0.1:${port}/other` }, 'pw\n')
    expect(unreachable.code).toBe(1)
    expect(oneLine(unreachable)).toMatch(/^pingscope: database unreachable: .*ECONNREFUSED/)
    expect(unreachable.stderr).not.toContain('secret')
  })

  it('refuses a wrong password and stores nothing', async () => {
    const r = await runCli(['login', '-u', ADMIN.username], envFor('wrong'), 'not-the-password\n')
    expect([r.code, oneLine(r)]).toEqual([1, 'pingscope: invalid username or password'])
    expect(existsSync(credentialsOf('wrong'))).toBe(false)
    const missing = await runCli(['login'], envFor('wrong'))
    expect([missing.code, oneLine(missing)]).toEqual([2, 'pingscope: --username: required when stdin is not a terminal'])
  })

  it('stores the credential with mode 0600 under $XDG_CONFIG_HOME (else ~/.config), keyed by database', async () => {
    const login = await ok(['login', '-u', ADMIN.username, '--json'], envFor('admin'), `${ADMIN.password}\n`)
    expect(login.json()).toMatchObject({ username: ADMIN.username, role: 'admin', via: 'jwt', database: key })
    const file = credentialsOf('admin')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { version: number; databases: Record<string, { type: string; username: string; expires_at: string }> }
    expect(stored.version).toBe(1)
    expect(Object.keys(stored.databases)).toEqual([key])
    expect(stored.databases[key]).toMatchObject({ type: 'jwt', username: ADMIN.username })
    expect(readFileSync(file, 'utf8')).not.toContain(ADMIN.password)

    // Without XDG_CONFIG_HOME: ~/.config/pingscope/credentials.json
    const noXdg = { ...db.env, HOME: path.join(home, 'plain-home') }
    await ok(['login', '-u', ADMIN.username, '--quiet'], noXdg, ADMIN.password)
    expect(statSync(path.join(home, 'plain-home', '.config', 'pingscope', 'credentials.json')).mode & 0o777).toBe(0o600)
    expect((await ok(['whoami', '--quiet'], noXdg)).stdout).toBe(`${ADMIN.username}\n`)
    // A file others can read is refused, as ssh refuses such a key.
    chmodSync(path.join(home, 'plain-home', '.config', 'pingscope', 'credentials.json'), 0o644)
    const open = await runCli(['whoami'], noXdg)
    expect([open.code, oneLine(open)]).toEqual([1, expect.stringMatching(/credentials\.json is accessible by other users \(mode 644\): run `chmod 600 .*`/)])
    expect((await ok(['logout', '--all'], noXdg)).stdout).toMatch(/^Logged out/)

    expect((await ok(['logout'], envFor('admin-copy'))).stdout).toBe(`Not logged in to ${key}\n`)
  })

  it('refuses a garbage token, a JWT signed with another secret, an expired JWT and a disabled user', async () => {
    await ok(['login', '-u', ADMIN.username], envFor('bad'), ADMIN.password)
    const refused = async (pattern: RegExp) => {
      const r = await runCli(['target', 'list'], envFor('bad'))
      expect(r.code, show(r)).toBe(1)
      expect(oneLine(r)).toMatch(pattern)
    }
    storeToken('bad', 'garbage')
    await refused(/^pingscope: the credential stored for .* is not valid here .*: run `pingscope login`$/)
    const [admin] = await db.sql<{ id: number }[]>`select id from users where username = ${ADMIN.username}`
    const claims = { sub: ADMIN.username, uid: admin!.id, role: 'admin' }
    storeToken('bad', createSigner({ key: 'another-secret-another-secret-another', expiresIn: 60_000 })(claims))
    await refused(/is not valid here/)
    const secret = await loadJwtSecret(db.sql, db.config)
    storeToken('bad', createSigner({ key: secret, expiresIn: 60_000, clockTimestamp: Date.now() - 3_600_000 })(claims))
    await refused(/^pingscope: your login to .* expired( at \S+)?: run `pingscope login`$/)
    // a valid JWT again, then the user is disabled
    storeToken('bad', createSigner({ key: secret, expiresIn: 60_000 })(claims))
    expect((await runCli(['target', 'list'], envFor('bad'))).code).toBe(0)
    await db.sql`update users set disabled = true where id = ${admin!.id}`
    try {
      await refused(/^pingscope: user root is disabled$/)
    } finally {
      await db.sql`update users set disabled = false where id = ${admin!.id}`
    }
  })

  it('logs in with an API token, which stops working once revoked', async () => {
    const token = (await ok(['tokens', 'create', 'ci', '--expires-days', '7', '--quiet'], envFor('admin'))).stdout.trim()
    expect(token).toMatch(/^pst_[A-Za-z0-9_-]{43}$/)
    const login = (await ok(['login', '--token', token, '--json'], envFor('token'))).json<Record<string, unknown>>()
    expect(login).toMatchObject({ username: ADMIN.username, via: 'api_token', database: key, expires_at: expect.stringMatching(/Z$/) })
    expect((await ok(['whoami', '--json'], envFor('token'))).json()).toMatchObject({ via: 'api_token' })
    const tokens = (await ok(['tokens', 'list', '--json'], envFor('admin'))).json<{ id: number; name: string; revoked_at: string | null }[]>()
    expect(JSON.stringify(tokens)).not.toContain(token)
    const ci = tokens.find((t) => t.name === 'ci')!
    expect((await ok(['tokens', 'revoke', String(ci.id), '--json'], envFor('admin'))).json()).toEqual({ message: 'Token revoked', id: ci.id })
    const r = await runCli(['whoami'], envFor('token'))
    expect([r.code, oneLine(r)]).toEqual([1, `pingscope: the API token stored for ${key} has been revoked: run \`pingscope login\``])
    const notAToken = await runCli(['login', '--token', 'abc'], envFor('token'))
    expect([notAToken.code, oneLine(notAToken)]).toEqual([2, expect.stringMatching(/^pingscope: --token: must be an API token starting with pst_/)])
  })

  it('lets a viewer read but not change anything (exit 1, "requires the admin role"), and writes nothing', async () => {
    await ok(['users', 'add', VIEWER.username, '--role', 'viewer'], envFor('admin'), VIEWER.password)
    const [inserted] = await db.sql<{ id: number }[]>`insert into targets (address, enabled) values ('127.0.8.9', false) returning id`
    const targetId = inserted!.id
    await ok(['login', '-u', VIEWER.username], envFor('viewer'), VIEWER.password)
    expect((await ok(['target', 'list', '--json'], envFor('viewer'))).json()).toHaveLength(1)
    expect((await ok(['whoami', '--json'], envFor('viewer'))).json()).toMatchObject({ role: 'viewer' })
    const csv = path.join(home, 'viewer.csv')
    writeFileSync(csv, 'ip\n127.0.8.10\n')
    const id = String(targetId)
    const attempts: [string, string[]][] = [
      ['target add', ['127.0.8.1']],
      ['target import', [csv]],
      ['target update', [id, '--frequency', '5']],
      ['target pause', [id]],
      ['target resume', [id]],
      ['target delete', [id, '--yes']],
      ['traceroute', [id]],
      ['users list', []],
      ['users role', [VIEWER.username, 'admin']],
      ['seed', ['--targets', '1', '--days', '1']],
    ]
    const results = await Promise.all(attempts.map(([cmd, args]) => runCli([...cmd.split(' '), ...args], envFor('viewer'))))
    results.forEach((r, i) => {
      expect([r.code, oneLine(r)], show(r)).toEqual([1, `pingscope: \`pingscope ${attempts[i]![0]}\` requires the admin role`])
    })
    const [state] = await db.sql<{ targets: number; events: number; enabled: boolean; role: string }[]>`
      select (select count(*)::int from targets) as targets, (select count(*)::int from events) as events,
             (select enabled from targets where id = ${targetId}) as enabled,
             (select role from users where username = ${VIEWER.username}) as role`
    expect(state).toEqual({ targets: 1, events: 0, enabled: false, role: 'viewer' })
  })
})
