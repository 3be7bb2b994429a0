import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestDatabase, openTestDatabase, tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { oneLine, runCli, show } from '../cli/cli.js'

// The CLI side of the remote agent: `pingscope tokens create <name> --probe --site <site>` (admins only),
// a probe token refused as a CLI login, and `pingscope probe --server` refusing bad flags in one line.

describe.each(ENGINES)('pingscope tokens create --probe and probe --server (%s engine)', (engine) => {
  let db: TestDatabase
  const home = tempDir('pingscope-home-')
  const envFor = (config: string) => ({ ...db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, config) })
  const ok = async (args: string[], env: Record<string, string>, input = '') => {
    const r = await runCli(args, env, input)
    if (r.code !== 0) throw new Error(`pingscope ${args.join(' ')}:\n${show(r)}`)
    return r
  }

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    await ok(['users', 'add', 'root', '--role', 'admin'], envFor('admin'), 'root-password-123\n')
    await ok(['login', '-u', 'root'], envFor('admin'), 'root-password-123\n')
  })
  afterAll(async () => {
    await db?.destroy()
    rmSync(home, { recursive: true, force: true })
  })

  it('creates a probe token for a site, lists its scope, and refuses it as a CLI login', async () => {
    const created = await ok(['tokens', 'create', 'branch-a-1', '--probe', '--site', 'branch-a', '--json'], envFor('admin'))
    expect(created.json()).toMatchObject({ name: 'branch-a-1', scope: 'probe', site: 'branch-a', token: expect.stringMatching(/^pst_/) })
    const token = created.json<{ token: string }>().token
    const list = await ok(['tokens', 'list'], envFor('admin'))
    expect(list.stdout).toMatch(/branch-a-1.*probe:branch-a/)

    const noSite = await runCli(['tokens', 'create', 'x', '--probe'], envFor('admin'))
    expect([noSite.code, oneLine(noSite)]).toEqual([2, 'pingscope: --site: is required for a probe token'])

    // A probe token carries no user rights anywhere but /probe/*: the CLI does not know it.
    const login = await runCli(['login', '--token', token], envFor('probe'))
    expect([login.code, oneLine(login)]).toEqual([1, 'pingscope: the API token is unknown'])
  })

  it('refuses --token without --server, --server without a token, and malformed values, in one line each', async () => {
    const env = { HOME: home, AGENT_DATA_DIR: path.join(home, 'agent') }
    const cases: [string[], string][] = [
      [['probe', '--token', 'pst_aaaaaaaaaaaaaaaaaaaaaaaa'], 'pingscope: --token is for the remote agent: give --server <url> (or PROBE_SERVER) too'],
      [['probe', '--server', 'http://127.0.0.1:1'], 'pingscope: the remote agent needs a probe token: --token pst_… or PROBE_TOKEN (`pingscope tokens create <name> --probe --site <site>`)'],
      [['probe', '--server', 'ftp://x', '--token', 'pst_aaaaaaaaaaaaaaaaaaaaaaaa'], 'pingscope: --server: must be the http:// or https:// URL of a pingscope server'],
      [['probe', '--server', 'http://127.0.0.1:1', '--token', 'nope'], 'pingscope: --token: must be a probe token (pst_…; `pingscope tokens create <name> --probe --site <site>`)'],
    ]
    for (const [args, line] of cases) {
      const r = await runCli(args, env)
      expect([r.code, oneLine(r)], args.join(' ')).toEqual([2, line])
    }
  })
})
