import type { Command } from 'commander'
import { DataDirInUseError } from '../../src/agent/agent-state.js'
import { type RunningAgent, startAgent } from '../../src/agent/agent.js'
import { type Config, configSchema } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { IcmpPermissionError } from '../../src/probe/icmp.js'
import { ProbeUnavailableError, startServer } from '../../src/server.js'
import { CliError, UsageError } from '../output.js'

// `pingscope serve` (API, dashboard, probes, jobs, alerting) and `pingscope probe` (= `serve --no-api`:
// a probe process of the fleet on the same database, nothing else; with --server/PROBE_SERVER the
// remote agent, src/agent/agent.ts, with no database at all). All stop cleanly on SIGTERM or SIGINT:
// their targets are handed to the other probes of the site, buffered samples flushed (or, for the
// agent, kept on disk).

/** The agent's server and token: the flags, else PROBE_SERVER / PROBE_TOKEN (checked by the config's rules). */
function agentTarget(config: Config, o: { server?: string; token?: string }): { server: string; token: string } | null {
  const server = o.server ?? config.agent.server
  if (!server) {
    if (o.token) throw new UsageError('--token is for the remote agent: give --server <url> (or PROBE_SERVER) too')
    return null
  }
  const token = o.token ?? config.agent.token
  if (!token) throw new UsageError('the remote agent needs a probe token: --token pst_… or PROBE_TOKEN (`pingscope tokens create <name> --probe --site <site>`)')
  for (const [flag, schema, value] of [
    ['--server', configSchema.shape.PROBE_SERVER, server],
    ['--token', configSchema.shape.PROBE_TOKEN, token],
  ] as const) {
    const r = schema.safeParse(value)
    if (!r.success) throw new UsageError(`${flag}: ${r.error.issues[0]!.message}`)
  }
  return { server, token }
}

async function run(getConfig: () => Config, api: boolean, agentFlags: { server?: string; token?: string } = {}): Promise<void> {
  const config = getConfig()
  const remote = api ? null : agentTarget(config, agentFlags)
  const log = createLogger(config.logLevel)
  let server: { stop(): Promise<void> } | RunningAgent
  if (remote) {
    if (!config.probe.enabled) throw new CliError('probing is disabled by PROBE_ENABLED=false: a probe agent has nothing to do')
    server = await startAgent({
      ...remote,
      dataDir: config.agent.dataDir,
      name: config.agent.name,
      log,
      probe: config.probe,
      writer: config.writer,
      bufferMaxBytes: config.agent.bufferMaxBytes,
    }).catch((err: unknown) => {
      throw err instanceof IcmpPermissionError || err instanceof DataDirInUseError ? new CliError(err.message) : err
    })
  } else {
    server = await (api ? startServer(config, log) : startServer(config, log, { api: false })).catch((err: unknown) => {
      throw err instanceof ProbeUnavailableError ? new CliError(err.message) : err
    })
  }
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
    .description('run a probe of the fleet: on the same database, or with --server as a remote agent over HTTP')
    .option('--server <url>', 'be a remote agent of this pingscope server (no database access); default PROBE_SERVER')
    .option('--token <pst_…>', 'the probe token of the agent (it decides the site); default PROBE_TOKEN')
    .addHelpText(
      'after',
      `
On the database: DATABASE_URL, else the embedded one in DATA_DIR (shared with a running \`serve\`). Probes
of one PROBE_SITE split its targets between them and take over a stopped or lost probe's targets within
3 heartbeats (PROBE_HEARTBEAT_MS). Policy jobs, alerting and the API stay with \`pingscope serve\`.

Remote agent (--server, or PROBE_SERVER): for a site that must not hold database credentials. An admin
creates its token: \`pingscope tokens create edge-1 --probe --site branch-a\`. The agent heartbeats to the
server, which assigns it its fair share of the site's targets, probes them, and posts gzip'd sample
batches. Each batch is written to AGENT_DATA_DIR (default ./agent-data) before it is posted and deleted
once the server has it, so an unreachable server or a restart loses nothing; beyond PROBE_BUFFER_MAX_MB
(default 512) the oldest batches are deleted and counted as dropped (logged, reported in heartbeats).
Without an answer it probes on for 2 heartbeats past its last renewal, or on and on when it is alone in
its site; at start it probes its last assignment under the same rule. PROBE_SITE is not used: the token
says the site. Prefer PROBE_TOKEN to --token (the process list shows arguments).

Examples:
  PROBE_NAME=probe-b pingscope probe
  DATABASE_URL=postgres://pingscope@db/pingscope PROBE_NAME=rack-7 pingscope probe
  PROBE_TOKEN=pst_… pingscope probe --server https://telemetry.example:6666
  PROBE_SERVER=https://telemetry.example:6666 PROBE_TOKEN=pst_… AGENT_DATA_DIR=/var/lib/pingscope-agent pingscope probe`,
    )
    .action(async (o: { server?: string; token?: string }) => run(getConfig, false, o))
}
