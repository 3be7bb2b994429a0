// The arithmetic of the lease protocol (src/probe/leases.ts), free of time and database: how many targets
// a probe should hold, what it should claim or give back, and when a lease it holds stops being safe.

/** Leases last this many heartbeats; a probe is live for as long after its last heartbeat. */
export const LEASE_HEARTBEATS = 3

/**
 * How far two clocks that date one handover may disagree: the embedded engine's clock moves in whole
 * milliseconds (measured: its clock_timestamp() read up to 0.1 ms before the probe sent the query, by the
 * probe's clock), and probes on different hosts are as close as NTP keeps them (a few ms on a LAN).
 * A handover waits this much longer, so a slot near it is missed once (20 ms: 2 % of handed-over 1 s
 * targets) rather than probed twice.
 */
export const CLOCK_MARGIN_MS = 20

/** The most targets each live probe of a site holds: ceil(enabled / live), so the probes cover them all. */
export function fairShare(enabledTargets: number, liveProbes: number): number {
  if (enabledTargets <= 0) return 0
  return Math.ceil(enabledTargets / Math.max(1, liveProbes))
}

export interface LeasePlan {
  /** Free (or expired) leases to claim now. */
  claim: number
  /** Held targets to give back, after the scheduler has stopped probing them. */
  release: number[]
}

/**
 * What one probe does at a look: claim up to its share from the free leases, or give back what it holds
 * beyond its share (more probes are live than when it claimed). The highest ids go back, so a probe keeps
 * a stable block and a handover moves as few targets as the new share requires.
 */
export function planLeases(p: { held: readonly number[]; share: number; free: number }): LeasePlan {
  const { held, share } = p
  if (held.length > share) {
    const release = [...held].sort((a, b) => b - a).slice(0, held.length - share)
    return { claim: 0, release }
  }
  return { claim: Math.max(0, Math.min(share - held.length, p.free)), release: [] }
}

/**
 * Until when (local clock) a probe may keep probing the leases it renewed with a request sent at
 * `sentAt`. The database dates the expiry from its own now(), which is no earlier than the send, so
 * the lease runs at least until sentAt + ttl there; stopping one heartbeat before that leaves room for a
 * round still sending its echoes.
 */
export function leaseDeadline(sentAt: number, heartbeatMs: number): number {
  return sentAt + (LEASE_HEARTBEATS - 1) * heartbeatMs
}

/**
 * When (local clock) the previous holder of a lease was done with the target: the database says it was
 * free for `freeForMs` when it read its clock, which was before the answer arrived, so `answeredAt -
 * freeForMs` is not earlier than the truth, up to CLOCK_MARGIN_MS, which is added (a round is never
 * probed twice; at worst one is missed). null for a target nobody held before (new or resumed).
 */
export function previousHolderDone(answeredAt: number, freeForMs: number | null): number | null {
  return freeForMs === null ? null : answeredAt - Math.max(0, freeForMs) + CLOCK_MARGIN_MS
}
