import type { Logger } from '../log.js'
import { leaseDeadline, previousHolderDone } from '../probe/lease-plan.js'
import { createHeldLeases } from '../probe/held-leases.js'
import type { AgentTarget, HeartbeatOut } from './agent.schema.js'

// The remote agent's side of the lease protocol, mirroring src/probe/leases.ts (the held leases and
// their expiry guard are the same code, src/probe/held-leases.ts) with the database steps done by the
// server at each heartbeat (src/agent/agent.service.ts): the agent holds what the last answer listed,
// takes a new target over at the first slot after its previous holder was done, stops probing what the
// answer no longer lists (or says to release) before it leaves it out of `held`, and stops probing
// everything 2 heartbeats after the last renewal it sent (before anyone may take its targets) unless it
// was alone in its site at the last answer: then it probes on while the server is unreachable,
// buffering, and renews what nobody claimed once it is back.

export interface AgentLeaseStatus {
  held: number
  liveProbes: number
  claimed: number
  released: number
  /** Targets given up because their leases could not be renewed in time. */
  expired: number
}

export function createAgentLeases(opts: {
  log: Logger
  now: () => number
  /** Stop probing these; resolves when none of their rounds is in flight. */
  drain: (ids: number[]) => Promise<void>
  /** The held set or the targets' settings changed: the scheduler should reload now. */
  onChange: () => void
}) {
  const { log } = opts
  const held = createHeldLeases({ log, now: opts.now, drain: opts.drain })
  held.setLiveProbes(1)
  let rows: AgentTarget[] = []
  let rowsKey = ''
  let rowsVersion = 0
  const counts = { claimed: 0, released: 0 }

  function setRows(list: AgentTarget[]): boolean {
    // Only what the scheduler uses: a new done_at or outage figure alone is no change of the targets.
    const key = JSON.stringify(list.map((t) => [t.id, t.address, t.interval_s, t.packets, t.timeout_ms]))
    rows = list
    if (key === rowsKey) return false
    rowsKey = key
    rowsVersion++
    return true
  }

  const drop = held.drop

  return {
    view: held.view,
    heldIds: held.ids,
    /** The targets to probe (the store's rows) and a fingerprint that moves when they change. */
    rows: () => ({ fingerprint: String(rowsVersion), rows }),
    /**
     * The last assignment, persisted by a previous run: probed from the next slot on (the previous run
     * stopped before it exited), until `validUntilAt` (local clock) unless it was alone in its site.
     */
    resume(targets: AgentTarget[], until: number, live: number) {
      held.setLiveProbes(live)
      held.take(targets.map((t) => [t.id, null] as const))
      setRows(targets)
      held.validUntil(until)
    },
    /**
     * Applies a heartbeat's answer. `sent`: the held list the heartbeat carried, sent at `sentAt`.
     * Returns the targets dropped (stopped probing): the next heartbeat leaves them out, releasing them.
     */
    async apply(ans: HeartbeatOut, sent: ReadonlySet<number>, sentAt: number, answeredAt: number): Promise<number[]> {
      held.setLiveProbes(ans.live_probes)
      const given = new Set(ans.targets.map((t) => t.id))
      const gone = held.ids().filter((id) => !given.has(id))
      if (gone.length) {
        await drop(gone)
        counts.released += gone.length
        log.info({ released: gone.length, held: held.size() }, 'targets given up')
      }
      // Renewed from the server's now(), which is no earlier than the send: safe until 2 heartbeats on.
      held.validUntil(leaseDeadline(sentAt, ans.heartbeat_ms))
      // Not held yet, and not dropped here while the heartbeat was on its way (the expiry guard) but
      // renewed there: such a one is not probed again; left out of the next heartbeat, it is released.
      const won = ans.targets.filter((t) => !held.has(t.id) && !sent.has(t.id))
      held.take(won.map((t) => [t.id, t.done_at_ms_ago === null ? null : previousHolderDone(answeredAt, t.done_at_ms_ago)] as const))
      const claimed = won.length
      if (claimed) {
        counts.claimed += claimed
        log.info({ claimed, held: held.size(), share: ans.share, liveProbes: ans.live_probes }, 'targets claimed')
      }
      const changed = setRows(ans.targets)
      if (claimed || changed) opts.onChange()
      return gone
    },
    /** Stops probing everything (a clean stop); returns when the last round was done (local clock). */
    async stop(): Promise<number> {
      held.stop()
      return drop(held.ids())
    },
    status: (): AgentLeaseStatus => ({ held: held.size(), liveProbes: held.liveProbes(), ...counts, expired: held.expired() }),
  }
}

export type AgentLeases = ReturnType<typeof createAgentLeases>
