#!/usr/bin/env node
import { Command, CommanderError } from 'commander'
import { ConfigError, loadConfig, readEnv } from '../src/config.js'
import { VERSION } from '../src/version.js'
import { registerMigrate } from './commands/migrate.js'
import { registerServe } from './commands/serve.js'
import { EXIT, fail } from './output.js'

// The `pingscope` command: a thin shell over src/. Exit codes: 0 success, 1 operational error,
// 2 usage or configuration error; errors are one line on stderr.

const program = new Command()
  .name('pingscope')
  .description('Network telemetry: microsecond ICMP probes into TimescaleDB, with API, CLI and dashboard')
  .version(VERSION)
  .showHelpAfterError('(add --help for usage)')
  .exitOverride()

const getConfig = () => loadConfig(readEnv())
registerServe(program, getConfig)
registerMigrate(program, getConfig)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage)
  }
  if (err instanceof ConfigError) {
    for (const p of err.problems) process.stderr.write(`pingscope: config: ${p}\n`)
    process.exit(EXIT.usage)
  }
  fail(err)
}
