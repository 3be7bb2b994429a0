import type { Command } from 'commander'
import type { Config } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { reconcilePolicies } from '../../src/db/maintenance/policies.js'
import { type CliDeps, loggerFor, outputFor } from '../session.js'

// No login needed: the schema must exist before there are users to log in as.
export function registerMigrate(program: Command, deps: CliDeps) {
  program
    .command('migrate')
    .description('apply pending database migrations and reconcile retention policies (no login needed)')
    .addHelpText('after', '\nExamples:\n  pingscope migrate\n  DATABASE_URL=postgres://… pingscope migrate --json')
    .action(async (_opts: unknown, cmd: Command) => {
      const config: Config = deps.getConfig()
      const out = outputFor(cmd, deps)
      const db = await openDatabase(config, { log: loggerFor(cmd, config), max: 1 })
      try {
        const result = await migrate(db.sql)
        await reconcilePolicies(db.sql, config.retention)
        out.emit(result, (r) => (r.applied.length === 0 ? `schema is up to date (version ${r.version})` : `applied ${r.applied.join(', ')} (version ${r.version})`))
      } finally {
        await db.close()
      }
    })
}
