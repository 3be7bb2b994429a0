import type { Command } from 'commander'
import type { Config } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { ProbeUnavailableError, startServer } from '../../src/server.js'
import { CliError } from '../output.js'

// `pingscope serve` (API, dashboard, probes, jobs, alerting) and `pingscope probe` (= `serve --no-api`:
// a probe process of the fleet on the same database, nothing else). Both stop cleanly on SIGTERM or
// SIGINT: their targets are handed to the other probes of the site, buffered samples flushed.

async function run(getConfig: () => Config, api: boolean): Promise<void> {
  const config = getConfig()
  const log = createLogger(config.logLevel)
  const server = await (api ? startServer(config, log) : startServer(config, log, { api: false })).catch((err: unknown) => {
    throw err instanceof ProbeUnavailableError ? new CliError(err.message) : err
  })
  let signalled = false
  const stop = (signal: string) => {
    if (signalled) return
    signalled = true
    log.info({ signal }, 'stopping')
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

export function registerServe(program: Command, getConfig: () => Config) {
  program
    .command('serve')
    .description('run the API, dashboard, probe scheduler and (without DATABASE_URL) the embedded database')
    .option('--no-api', 'probe only, as `pingscope probe`: no API, dashboard, jobs or alerting')
    .addHelpText('after', '\nExamples:\n  pingscope serve\n  PORT=8080 DATA_DIR=/var/lib/pingscope pingscope serve\n  PROBE_NAME=edge-2 pingscope serve --no-api')
    .action(async (o: { api: boolean }) => run(getConfig, o.api))

  program
    .command('probe')
    .description('run a probe of the fleet on the same database: it probes the targets it leases, nothing else')
    .addHelpText(
      'after',
      `
The database is DATABASE_URL, else the embedded one in DATA_DIR (shared with a running \`serve\`). Probes
of one PROBE_SITE split its targets between them and take over a stopped or lost probe's targets within
3 heartbeats (PROBE_HEARTBEAT_MS). Policy jobs, alerting and the API stay with \`pingscope serve\`.

Examples:
  PROBE_NAME=probe-b pingscope probe
  DATABASE_URL=postgres://pingscope@db/pingscope PROBE_NAME=rack-7 pingscope probe`,
    )
    .action(async () => run(getConfig, false))
}
