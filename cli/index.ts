#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { ConfigError, loadConfig, readEnv } from '../src/config.js'
import { VERSION } from '../src/version.js'
import { registerAlerts } from './commands/alerts.js'
import { registerAuth } from './commands/auth.js'
import { registerExport } from './commands/export.js'
import { registerHistory } from './commands/history.js'
import { registerIncidents } from './commands/incidents.js'
import { registerMigrate } from './commands/migrate.js'
import { registerSeed } from './commands/seed.js'
import { registerServe } from './commands/serve.js'
import { registerSites } from './commands/sites.js'
import { registerTarget } from './commands/target.js'
import { registerTokens } from './commands/tokens.js'
import { registerTraceroute } from './commands/traceroute.js'
import { registerUsers } from './commands/users.js'
import { EXIT, fail } from './output.js'
import type { CliDeps } from './session.js'

// The `pingscope` command: a thin shell over src/ (parse → the service the API calls → print → exit
// code). Exit codes: 0 success, 1 operational error, 2 usage or configuration error; errors are one
// line on stderr, never a stack trace.

const env = readEnv()
const deps: CliDeps = { getConfig: () => loadConfig(env), env }

const program = new Command()
  .name('pingscope')
  .description('Network telemetry: microsecond ICMP probes into TimescaleDB, with API, CLI and dashboard')
  .version(VERSION)
  // Global options, accepted before or after the command (`pingscope --json target list` and
  // `pingscope target list --json` are the same).
  .option('--json', 'print the result as one JSON document (ISO times in UTC, the API field names)')
  .option('-q, --quiet', 'print only identifiers (ids, a new token) or nothing; errors still go to stderr')
  .option('-v, --verbose', 'log debug details to stderr')
  .option('--no-color', 'no colours (also when NO_COLOR is set or stdout is not a terminal)')
  .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
  // Errors are printed once, as one line, below.
  .configureOutput({ outputError: () => {} })
  .exitOverride()
  .addHelpText(
    'after',
    `
Every command but serve, probe, migrate and login needs a login (\`pingscope login\`), checked against the
database each time; changes need the admin role. The database is DATABASE_URL, else the embedded
one in DATA_DIR (usable while \`pingscope serve\` runs on it).

Exit status: 0 success, 1 operational error (not found, conflict, refused, database unreachable),
2 usage error (unknown flag, bad value).

Examples:
  pingscope login
  pingscope target add 192.0.2.10 --frequency 5 --name core-router
  pingscope target list --json
  pingscope insights 1 --window 24h
  pingscope export 1 -o samples.csv`,
  )

registerServe(program, deps.getConfig)
registerMigrate(program, deps)
registerAuth(program, deps)
registerTarget(program, deps)
registerHistory(program, deps)
registerExport(program, deps)
registerTraceroute(program, deps)
registerUsers(program, deps)
registerTokens(program, deps)
registerSites(program, deps)
registerIncidents(program, deps)
registerAlerts(program, deps)
registerSeed(program, deps)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // --help, --version, and help shown because a command group was called without a command.
    if (err.exitCode === 0) process.exit(EXIT.ok)
    if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') process.exit(EXIT.usage)
    fail(new CommanderError(EXIT.usage, err.code, `${err.message.replace(/^error: /, '').replace(/\n/g, ' ')} (see --help)`))
  }
  if (err instanceof ConfigError) {
    for (const p of err.problems) process.stderr.write(`pingscope: config: ${p}\n`)
    process.exit(EXIT.usage)
  }
  fail(err)
}
