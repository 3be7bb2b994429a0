import type { Logger } from '../log.js'
import { leaseDeadline, previousHolderDone } from '../probe/lease-plan.js'
import type { LeaseView } from '../probe/leases.js'
import type { AgentTarget, HeartbeatOut } from './agent.schema.js'

// The remote agent's side of the lease protocol, mirroring src/probe/leases.ts with the database steps
// done by the server at each heartbeat (src/agent/agent.service.ts): the agent holds what the last
// answer listed, takes a new target over at the first slot after its previous holder was done, stops
// probing what the answer no longer lists (or says to release) before it leaves it out of `held`, and
// stops probing everything 2 heartbeats after the last renewal it sent (before anyone may take its
// targets) unless it was alone in its site at the last answer: then it probes on while the server is
// unreachable, buffering, and renews what nobody claimed once it is back.

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
  const { log, now } = opts
  const held = new Map<number, number | null>()
  let version = 0
  let rows: AgentTarget[] = []
  let rowsKey = ''
  let rowsVersion = 0
  let validUntil = Infinity
  let liveProbes = 1
  let expiryTimer: NodeJS.Timeout | undefined
  let running = true
  let warnedAlone = false
  const counts = { claimed: 0, released: 0, expired: 0 }

  function setRows(list: AgentTarget[]): boolean {
    // Only what the scheduler uses: a new done_at or outage figure alone is no change of the targets.
    const key = JSON.stringify(list.map((t) => [t.id, t.address, t.interval_s, t.packets, t.timeout_ms]))
    rows = list
    if (key === rowsKey) return false
    rowsKey = key
    rowsVersion++
    return true
  }

  /** Stops probing `ids`; returns when (local clock) the last of their rounds was done. */
  async function drop(ids: number[]): Promise<number> {
    const mine = ids.filter((id) => held.has(id))
    if (mine.length === 0) return now()
    for (const id of mine) held.delete(id)
    version++
    await opts.drain(mine)
    return now()
  }

  function armExpiry() {
    clearTimeout(expiryTimer)
    if (!running || held.size === 0 || validUntil === Infinity) return
    expiryTimer = setTimeout(() => {
      if (now() < validUntil || held.size === 0) return armExpiry()
      if (liveProbes <= 1) {
        if (!warnedAlone) log.warn({ targets: held.size }, 'leases not renewed for 2 heartbeats; alone in the site, so probing on')
        warnedAlone = true
        return
      }
      counts.expired += held.size
      log.error({ targets: held.size }, 'leases not renewed for 2 heartbeats: stopped probing their targets')
      void drop([...held.keys()])
    }, Math.max(0, validUntil - now()))
  }

  const view: LeaseView = {
    version: () => version,
    holds: (id) => held.has(id),
    doneAt: (id) => held.get(id) ?? null,
  }

  return {
    view,
    heldIds: () => [...held.keys()],
    /** The targets to probe (the store's rows) and a fingerprint that moves when they change. */
    rows: () => ({ fingerprint: String(rowsVersion), rows }),
    /**
     * The last assignment, persisted by a previous run: probed from the next slot on (the previous run
     * stopped before it exited), until `validUntilAt` (local clock) unless it was alone in its site.
     */
    resume(targets: AgentTarget[], until: number, live: number) {
      for (const t of targets) held.set(t.id, null)
      setRows(targets)
      version++
      validUntil = until
      liveProbes = live
      armExpiry()
    },
    /**
     * Applies a heartbeat's answer. `sent`: the held list the heartbeat carried, sent at `sentAt`.
     * Returns the targets dropped (stopped probing): the next heartbeat leaves them out, releasing them.
     */
    async apply(ans: HeartbeatOut, sent: ReadonlySet<number>, sentAt: number, answeredAt: number): Promise<number[]> {
      liveProbes = ans.live_probes
      if (liveProbes > 1) warnedAlone = false
      const given = new Set(ans.targets.map((t) => t.id))
      const gone = [...held.keys()].filter((id) => !given.has(id))
      if (gone.length) {
        await drop(gone)
        counts.released += gone.length
        log.info({ released: gone.length, held: held.size }, 'targets given up')
      }
      // Renewed from the server's now(), which is no earlier than the send: safe until 2 heartbeats on.
      validUntil = leaseDeadline(sentAt, ans.heartbeat_ms)
      let claimed = 0
      for (const t of ans.targets) {
        if (held.has(t.id)) continue
        // Dropped here while the heartbeat was on its way (the expiry guard), renewed there: not probed
        // again; left out of the next heartbeat, it is released.
        if (sent.has(t.id)) continue
        held.set(t.id, t.done_at_ms_ago === null ? null : previousHolderDone(answeredAt, t.done_at_ms_ago))
        claimed++
      }
      if (claimed) {
        version++
        counts.claimed += claimed
        log.info({ claimed, held: held.size, share: ans.share, liveProbes }, 'targets claimed')
      }
      const changed = setRows(ans.targets)
      armExpiry()
      if (claimed || changed) opts.onChange()
      return gone
    },
    /** Stops probing everything (a clean stop); returns when the last round was done (local clock). */
    async stop(): Promise<number> {
      running = false
      clearTimeout(expiryTimer)
      return drop([...held.keys()])
    },
    status: (): AgentLeaseStatus => ({ held: held.size, liveProbes, ...counts }),
  }
}

export type AgentLeases = ReturnType<typeof createAgentLeases>
