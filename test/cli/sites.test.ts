// `pingscope sites` and the target commands' --site / --all-sites, on the built CLI. Addresses are
// documentation ones, added paused: nothing here is probed.
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/auth/passwords.js'
import { createUser } from '../../src/auth/users.repo.js'
import { ensureSite } from '../../src/sites/sites.repo.js'
import { type TestDatabase, openTestDatabase, tempDir } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { oneLine, runCli, show } from './cli.js'

const SITE_RULE = 'must be a site name: 1-64 lowercase letters, digits and . _ - (starting with a letter or digit)'

describe.each(ENGINES)('pingscope sites and target --site (%s engine)', (engine) => {
  let db: TestDatabase
  const home = tempDir('pingscope-home-')
  let env: Record<string, string>
  const cli = async (args: string[], input = '') => {
    const r = await runCli(args, env, input)
    expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(0)
    return r
  }

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    await createUser(db.sql, { username: 'admin', passwordHash: await hashPassword('admin-password-1'), role: 'admin' })
    env = { ...db.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config') }
    await cli(['login', '-u', 'admin', '-q'], 'admin-password-1\n')
  })
  afterAll(async () => {
    await db?.destroy()
    rmSync(home, { recursive: true, force: true })
  })

  it('sets, shows, lists and resets the sites of a target', async () => {
    const id = (await cli(['target', 'add', '192.0.2.201', '--site', 'east', '--site', 'west', '--quiet'])).stdout.trim()
    await db.sql`update targets set enabled = false where id = ${Number(id)}`
    expect((await cli(['target', 'show', id, '--json'])).json()).toMatchObject({ sites: ['east', 'west'] })
    expect((await cli(['target', 'show', id])).stdout).toMatch(/^sites\s+east, west$/m)

    const updated = await cli(['target', 'update', id, '--site', 'north', '--json'])
    expect(updated.json()).toMatchObject({ sites: ['north'] })
    const reset = await cli(['target', 'update', id, '--all-sites', '--json'])
    expect(reset.json()).toMatchObject({ sites: null })

    const list = (await cli(['target', 'list'])).stdout.split('\n')
    expect(list[0]).toMatch(/\bSITES$/)
    expect(list.find((l) => l.includes('192.0.2.201'))).toMatch(/\ball$/)

    const bad: [string[], string][] = [
      [['target', 'add', '192.0.2.202', '--site', 'East'], `pingscope: --site: ${SITE_RULE} (got "East")`],
      [['target', 'update', id, '--site', 'a b'], `pingscope: --site: ${SITE_RULE} (got "a b")`],
      [['target', 'update', id, '--site', 'east', '--all-sites'], 'pingscope: --all-sites: give either --all-sites or --site, not both'],
    ]
    for (const [args, message] of bad) {
      const r = await runCli(args, env)
      expect([r.code, oneLine(r)], show(r)).toEqual([2, message])
    }
  })

  it('imports a sites column, ;-separated, empty for every site', async () => {
    // The third row is rejected: exit 1, the others are added all the same.
    const res = await runCli(['target', 'import', '-', '--json'], env, 'ip,sites\n192.0.2.221,east;west\n192.0.2.222,\n192.0.2.223,Bad\n')
    expect(res.code, show(res)).toBe(1)
    expect(res.json<{ rejected: { line: number; reason: string }[] }>().rejected).toEqual([{ line: 4, ip: '192.0.2.223', reason: `sites: ${SITE_RULE} (got "Bad")` }])
    await db.sql`update targets set enabled = false where address like '192.0.2.22_'`
    const rows = await db.sql<{ address: string; sites: string[] | null }[]>`select address, sites from targets where address like '192.0.2.22_' order by address`
    expect(rows).toEqual([
      { address: '192.0.2.221', sites: ['east', 'west'] },
      { address: '192.0.2.222', sites: null },
    ])
  })

  it('lists the sites with their probes and targets, as a table and as JSON', async () => {
    await ensureSite(db.sql, 'east')
    await db.sql`update targets set enabled = true where address = '192.0.2.221'` // east and west
    const docs = (await cli(['sites', '--json'])).json<{ name: string; probes: number; live_probes: number; targets: number; created_at: string }[]>()
    expect(docs.map((d) => d.name)).toEqual(['default', 'east'])
    expect(docs[1]).toMatchObject({ name: 'east', probes: 0, live_probes: 0, targets: 1 })
    expect(docs[0]!.targets).toBe(0) // every other target is paused
    const table = (await cli(['sites'])).stdout.split('\n')
    expect(table[0]).toMatch(/^NAME\s+LIVE PROBES\s+PROBES\s+TARGETS\s+CREATED$/)
    expect(table[2]).toMatch(/^east\s+0\s+0\s+1\s+\d{4}-/)
    expect((await cli(['sites', '--quiet'])).stdout).toBe('default\neast\n')
    await db.sql`update targets set enabled = false where address = '192.0.2.221'`
  })
})
