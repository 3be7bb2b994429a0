import { mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Logger } from '../log.js'
import { LEASE_HEARTBEATS } from '../probe/lease-plan.js'
import { type Pinger, createIcmpPinger } from '../probe/icmp.js'
import { type Scheduler, createScheduler } from '../probe/scheduler.js'
import type { ProbeStore } from '../probe/store.js'
import { VERSION } from '../version.js'
import { createAgentLeases } from './agent-leases.js'
import { type AgentState, lockDataDir, newAgentName, readState, saveState } from './agent-state.js'
import { AgentHttpError, createAgentClient } from './client.js'
import { openDiskBuffer } from './disk-buffer.js'
import { createUploader } from './uploader.js'

// The remote probe agent (`pingscope probe --server URL --token pst_…`): the probe engine (ICMP pinger,
// scheduler) without database access, for sites that must not hold database credentials. It heartbeats
// to the server every heartbeat_ms (the server's PROBE_HEARTBEAT_MS), which runs the fleet's lease logic
// for it and answers the targets it holds (src/agent/agent.service.ts); it probes them on their slots
// and posts the samples in gzip'd batches through an on-disk buffer (uploader.ts, disk-buffer.ts).
//
// When the server is unreachable: samples stay on disk (bounded, counted); the agent probes on for 2
// heartbeats past its last renewal, and then stops unless it was alone in its site (then it probes on,
// as a local probe does through a database outage). At start it probes its last assignment (kept in the
// data directory) under the same rule before the server has answered. SIGTERM: stop probing, write what
// is in memory to disk, leave the fleet (leases released), one last attempt to post, exit.

export interface AgentOptions {
  /** The pingscope server, e.g. https://telemetry.example:6666 */
  server: string
  /** A probe token (`pingscope tokens create <name> --probe --site <site>`): it decides the site. */
  token: string
  dataDir: string
  /** PROBE_NAME; default: the name kept in the data directory, else agent-<hostname>-<random>. */
  name?: string | null
  log: Logger
  probe: { concurrency: number; reloadMs: number; packetSpacingMs: number; lateMs: number; outageOpenRounds: number; heartbeatMs: number }
  writer: { batchRows: number; flushMs: number }
  bufferMaxBytes: number
  /** Replaces the ICMP adapter (tests of pure logic only). */
  pinger?: Pinger
}

export interface RunningAgent {
  stop(): Promise<void>
  stats(): Record<string, unknown>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref())

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { log, dataDir } = opts
  const now = () => performance.timeOrigin + performance.now()
  mkdirSync(dataDir, { recursive: true })
  const unlock = lockDataDir(dataDir)
  let pinger: Pinger | null = null
  try {
    pinger = opts.pinger ?? createIcmpPinger()
    const state: AgentState = readState(dataDir) ?? { name: opts.name ?? newAgentName(), session: null, assignment: null }
    if (opts.name && opts.name !== state.name) Object.assign(state, { name: opts.name, session: null }) // another identity
    await saveState(dataDir, state)
    const buffer = await openDiskBuffer({ dir: path.join(dataDir, 'batches'), maxBytes: opts.bufferMaxBytes, log })
    const client = createAgentClient({ server: opts.server, token: opts.token, userAgent: `pingscope-agent/${VERSION}` })
    const uploader = createUploader({ buffer, client, log, ...opts.writer })
    let scheduler: Scheduler | null = null
    const leases = createAgentLeases({
      log,
      now,
      drain: (ids) => scheduler?.drain(ids) ?? Promise.resolve(),
      onChange: () => void scheduler?.reload(),
    })
    let hb = state.assignment?.heartbeatMs ?? opts.probe.heartbeatMs
    let site = state.assignment?.site ?? null

    // The last assignment: probed before the server answers, under the lease rule (alone: on).
    const a = state.assignment
    if (a && a.targets.length) {
      const until = now() - (Date.now() - a.renewedAt) + (LEASE_HEARTBEATS - 1) * a.heartbeatMs
      if (a.liveProbes <= 1 || now() < until) {
        leases.resume(a.targets, until, a.liveProbes)
        log.info({ targets: a.targets.length, site: a.site, alone: a.liveProbes <= 1 }, 'agent: resuming the last assignment until the server answers')
      } else {
        log.info({ targets: a.targets.length }, 'agent: the last assignment has expired (other probes share the site): waiting for the server')
      }
    }

    const store: ProbeStore = {
      loadTargetsIfChanged: async (fingerprint, force) => {
        const r = leases.rows()
        if (r.fingerprint === fingerprint && !force) return null
        return {
          fingerprint: r.fingerprint,
          rows: r.rows.map((t) => ({ id: t.id, address: t.address, intervalS: t.interval_s, packets: t.packets, timeoutMs: t.timeout_ms, enabled: true })),
        }
      },
      listOpenOutages: async () =>
        leases
          .rows()
          .rows.filter((t) => t.open_outage_lost_rounds !== null)
          .map((t) => ({ targetId: t.id, lostRounds: t.open_outage_lost_rounds! })),
      openOutage: async (o) =>
        uploader.addOutage({ type: 'open', target_id: o.targetId, started_at: o.startedAt.toISOString(), lost_rounds: o.lostRounds, cause: o.cause }),
      closeOutage: async (c) => uploader.addOutage({ type: 'close', target_id: c.targetId, ended_at: c.endedAt.toISOString(), lost_rounds: c.lostRounds }),
    }

    let running = true
    let failing: string | null = null
    let soon = false
    let hbTimer: NodeJS.Timeout | undefined
    let current: Promise<void> = Promise.resolve()

    async function beat(): Promise<void> {
      soon = false
      const sent = new Set(leases.heldIds())
      const u = uploader.stats()
      const sentAt = now()
      try {
        const ans = await client.heartbeat({
          name: state.name,
          version: VERSION,
          hostname: os.hostname().slice(0, 255) || 'unknown',
          pid: process.pid,
          session: state.session,
          held: [...sent],
          buffered_rows: u.bufferedRows,
          dropped_rows: u.droppedRows,
          last_error: (u.lastError ?? failing)?.slice(0, 1000) ?? null,
        }, Math.max(1000, 2 * hb))
        const answeredAt = now()
        if (!running) return // stopping: the leases are being handed back
        if (failing) log.info({ buffered: u.bufferedRows }, 'agent: the server answers heartbeats again')
        failing = null
        if (ans.site !== site) log.info({ site: ans.site, probe: state.name, session: ans.session.id }, 'agent: member of the site')
        site = ans.site
        hb = ans.heartbeat_ms
        state.session = ans.session
        const gone = await leases.apply(ans, sent, sentAt, answeredAt)
        // Stopped probing some: say so at once, so that they are released now rather than in a heartbeat.
        if (gone.length) soon = true
        const mine = new Set(leases.heldIds())
        state.assignment = { site: ans.site, heartbeatMs: hb, liveProbes: ans.live_probes, renewedAt: Date.now() - (now() - sentAt), targets: ans.targets.filter((t) => mine.has(t.id)) }
        await saveState(dataDir, state).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'agent: cannot save its state'))
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        if (message !== failing) {
          const refused = err instanceof AgentHttpError && (err.status === 401 || err.status === 403)
          log[refused ? 'error' : 'warn']({ err: message, server: opts.server }, refused ? 'agent: the server refuses the probe token' : 'agent: heartbeat failed; retrying')
        }
        failing = message
      }
    }

    function loop(delayMs: number) {
      if (!running) return
      hbTimer = setTimeout(() => {
        current = beat().then(() => loop(soon ? 0 : hb))
      }, delayMs)
    }

    // The first answer before the first load, so the scheduler starts with its targets (if it comes).
    await beat()
    scheduler = createScheduler({ store, log, pinger, writer: uploader, ...opts.probe, now, leases: leases.view })
    await scheduler.start()
    log.info({ probe: state.name, site, server: opts.server, targets: leases.heldIds().length, dataDir }, 'agent probing')
    loop(soon ? 0 : hb)
    const monitor = setInterval(() => {
      log.info({ scheduler: scheduler?.stats(), uploader: uploader.stats(), leases: leases.status() }, 'probe agent')
    }, 60_000)
    monitor.unref()

    let stopping: Promise<void> | null = null
    return {
      stop: () =>
        (stopping ??= (async () => {
          running = false
          clearTimeout(hbTimer)
          clearInterval(monitor)
          await Promise.race([current, sleep(hb)])
          const doneAt = await leases.stop()
          await scheduler?.stop()
          log.info({ probe: state.name }, 'agent stopped probing')
          await uploader.seal()
          // Hand the targets over at once (the others of the site take them at their next look).
          if (state.session) {
            try {
              await client.leave(state.session, now() - doneAt)
              state.session = null
              state.assignment = null
            } catch (err) {
              log.warn({ err: (err as Error).message }, 'agent: could not leave the fleet; its leases expire within 3 heartbeats')
            }
          }
          await saveState(dataDir, state).catch(() => undefined)
          const left = await uploader.stop(5000)
          pinger?.close()
          const u = uploader.stats()
          log.info({ bufferedRows: left, droppedRows: u.droppedRows, postedRows: u.postedRows, storedRows: u.storedRows }, left ? 'agent stopped; buffered samples are sent at its next start' : 'agent stopped')
          unlock()
        })()),
      stats: () => ({ probe: state.name, site, scheduler: scheduler?.stats(), uploader: uploader.stats(), leases: leases.status() }),
    }
  } catch (err) {
    pinger?.close()
    unlock()
    throw err
  }
}
