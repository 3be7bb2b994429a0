// A stored JWT stops working once its user's password, role or status changes (by the CLI or the API):
// every later command, `whoami` included, exits 1 with one line saying why.
import path from 'node:path'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseKey } from '../../cli/credentials.js'
import { type TestDatabase, openTestDatabase, tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { oneLine, runCli, show } from './cli.js'

const ADMIN = { username: 'root', password: 'root-password-123' }

describe.each(ENGINES)('pingscope with a stale login (%s engine)', (engine) => {
  let db: TestDatabase
  let key: string
  const home = tempDir('pingscope-home-')
  const envFor = (config: string) => ({ ...db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, config) })
  const ok = async (args: string[], config: string, input = '') => {
    const r = await runCli(args, envFor(config), input)
    if (r.code !== 0) throw new Error(`pingscope ${args.join(' ')}:\n${show(r)}`)
    return r
  }

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    key = databaseKey(db.config)
    await ok(['users', 'add', ADMIN.username, '--role', 'admin'], 'admin', ADMIN.password)
    await ok(['login', '-u', ADMIN.username], 'admin', ADMIN.password)
    await ok(['users', 'add', 'ops', '--role', 'viewer'], 'admin', 'ops-password-1')
  })
  afterAll(async () => {
    await db?.destroy()
    rmSync(home, { recursive: true, force: true })
  })

  it('refuses a JWT issued before a password change, with one line and exit 1', async () => {
    await ok(['login', '-u', 'ops'], 'ops', 'ops-password-1')
    expect((await ok(['whoami', '--quiet'], 'ops')).stdout).toBe('ops\n')
    await ok(['users', 'passwd', 'ops'], 'admin', 'ops-password-2')
    const r = await runCli(['whoami'], envFor('ops'))
    expect([r.code, oneLine(r)], show(r)).toEqual([1, `pingscope: your login to ${key} is no longer valid (the password, role or status of ops changed since): run \`pingscope login\``])
    expect((await runCli(['target', 'list'], envFor('ops'))).code).toBe(1)
    await ok(['login', '-u', 'ops'], 'ops', 'ops-password-2')
    expect((await ok(['whoami', '--quiet'], 'ops')).stdout).toBe('ops\n')
  })

  it('says a disabled user is disabled, and refuses the old login once enabled again', async () => {
    await ok(['users', 'disable', 'ops'], 'admin')
    const disabled = await runCli(['whoami'], envFor('ops'))
    expect([disabled.code, oneLine(disabled)]).toEqual([1, 'pingscope: user ops is disabled'])
    await ok(['users', 'enable', 'ops'], 'admin')
    const stale = await runCli(['whoami'], envFor('ops'))
    expect([stale.code, oneLine(stale)]).toEqual([1, expect.stringMatching(/^pingscope: your login to .* is no longer valid .*: run `pingscope login`$/)])
    // the admin's own login is untouched by changes to another user
    expect((await ok(['whoami', '--quiet'], 'admin')).stdout).toBe(`${ADMIN.username}\n`)
  })
})
