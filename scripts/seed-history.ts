// The seed as a standalone script, with its own progress bar and a summary of each phase's time: a thin
// shell over src/seed (the history) and cli/commands/seed.ts (flags and printing), like `pingscope seed`
// but without a login.
//
//   DATA_DIR=./data node --import tsx scripts/seed-history.ts --targets 10 --days 90 --interval-s 60
import { CommanderError } from 'commander'
import { type SeedFlags, createSeedProgressBar, formatSeedSummary, parseSeedFlags } from '../cli/commands/seed.js'
import { ConfigError, loadConfig, readEnv } from '../src/config.js'
import { migrate } from '../src/db/migrate.js'
import { openDatabase } from '../src/db/open.js'
import { reconcilePolicies } from '../src/db/maintenance/policies.js'
import { createLogger } from '../src/log.js'
import { type SeedOptions, seedHistory } from '../src/seed/seed.service.js'

async function main(argv: string[]): Promise<number> {
  let flags: SeedFlags
  try {
    flags = parseSeedFlags(argv)
  } catch (err) {
    if (err instanceof CommanderError) return 0 // --help
    process.stderr.write(`seed-history: ${(err as Error).message}\n`)
    return 2
  }
  let config
  try {
    config = loadConfig(readEnv())
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const p of err.problems) process.stderr.write(`seed-history: config: ${p}\n`)
    return 2
  }
  if (flags.days > config.retention.hourDays) {
    process.stderr.write(`seed-history: --days must be at most the 1-hour retention (${config.retention.hourDays} days)\n`)
    return 2
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'seed')
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  process.once('SIGTERM', () => abort.abort())
  const t0 = performance.now()
  let db: Awaited<ReturnType<typeof openDatabase>>
  try {
    db = await openDatabase(config, { log, max: 1 })
  } catch (err) {
    process.stderr.write(`seed-history: ${(err as Error).message.split('\n')[0]}\n`)
    return 1
  }
  try {
    await migrate(db.sql)
    await reconcilePolicies(db.sql, config.retention)
    const openMs = performance.now() - t0
    // An engine this process started dies with it on Ctrl-C, and nobody else runs jobs on it meanwhile.
    const options: SeedOptions = { ...flags, pauseRetention: !db.engine?.owned, signal: abort.signal }
    const report = await seedHistory(db.sql, options, createSeedProgressBar(flags.quiet))
    process.stdout.write(`${formatSeedSummary(report, options, openMs)}\n`)
    return report.jobs.every((j) => j.ok) ? 0 : 1
  } catch (err) {
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}seed-history: ${(err as Error).message.split('\n')[0]}\n`)
    return 1
  } finally {
    await db.close()
  }
}

process.exitCode = await main(process.argv.slice(2))
