import type { Command } from 'commander'
import type { Config } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { openDatabase } from '../../src/db/open.js'
import { reconcilePolicies } from '../../src/db/policies.js'
import { createLogger } from '../../src/log.js'

export function registerMigrate(program: Command, getConfig: () => Config) {
  program
    .command('migrate')
    .description('apply pending database migrations and reconcile retention policies')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  pingscope migrate\n  DATABASE_URL=postgres://… pingscope migrate --json')
    .action(async (opts: { json?: boolean }) => {
      const config = getConfig()
      const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
      const db = await openDatabase(config, { log, max: 1 })
      try {
        const result = await migrate(db.sql)
        await reconcilePolicies(db.sql, config.retention)
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`)
        else if (result.applied.length === 0) process.stdout.write(`schema is up to date (version ${result.version})\n`)
        else process.stdout.write(`applied ${result.applied.join(', ')} (version ${result.version})\n`)
      } finally {
        await db.close()
      }
    })
}
