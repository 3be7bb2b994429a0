import type { Logger } from '../log.js'

// The leases one probe holds, shared by both sides of the lease protocol: the local probe's keeper
// (leases.ts, database steps of its own) and the remote agent's (src/agent/agent-leases.ts, the server
// does them at each heartbeat). What they share is what the scheduler reads (LeaseView), the order in
// which a target is let go (stopped probing first, only then left out of the renewals) and the expiry
// guard: leases not renewed for 2 heartbeats stop being probed, before anyone may take them (3), unless
// the probe was alone in its site at the last look: then nobody can take over, so it probes on.

/** What the scheduler reads: the targets this probe holds, and when their previous holder was done. */
export interface LeaseView {
  /** Bumped whenever the held set changes. */
  version(): number
  holds(targetId: number): boolean
  /** Local time the previous holder was done with the target; null when nobody held it (probe it at once). */
  doneAt(targetId: number): number | null
}

export function createHeldLeases(opts: {
  log: Logger
  /** The scheduler's clock (ms since the epoch). */
  now: () => number
  /** Stop probing these targets; resolves when none of their rounds is still in flight. */
  drain: (targetIds: number[]) => Promise<void>
}) {
  const { log, now } = opts
  // target id → when its previous holder was done with it (null: a target nobody held)
  const held = new Map<number, number | null>()
  let version = 0
  let validUntil = Infinity
  let liveProbes = 0
  let running = true
  let warnedAlone = false
  let expired = 0
  let expiryTimer: NodeJS.Timeout | undefined

  /** Stops probing everything if the leases were not renewed in time (the database or server is unreachable or slow). */
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
      expired += held.size
      log.error({ targets: held.size }, 'leases not renewed for 2 heartbeats: stopped probing their targets')
      void drop([...held.keys()])
    }, Math.max(0, validUntil - now()))
  }

  /** Stops probing those of `ids` held here; returns when (local clock) the last of their rounds was done. */
  async function drop(ids: readonly number[]): Promise<number> {
    const mine = ids.filter((id) => held.has(id))
    if (mine.length === 0) return now()
    for (const id of mine) held.delete(id)
    version++
    await opts.drain(mine)
    return now()
  }

  return {
    view: {
      version: () => version,
      holds: (id) => held.has(id),
      doneAt: (id) => held.get(id) ?? null,
    } satisfies LeaseView,
    drop,
    ids: () => [...held.keys()],
    has: (id: number) => held.has(id),
    size: () => held.size,
    /** Starts probing targets: target id → when its previous holder was done (null: at once). */
    take(entries: readonly (readonly [number, number | null])[]) {
      if (entries.length === 0) return
      for (const [id, doneAt] of entries) held.set(id, doneAt)
      version++
      armExpiry()
    },
    /** The held leases are valid until `at` (local clock); the guard fires then. */
    validUntil(at: number) {
      validUntil = at
      armExpiry()
    },
    /** The live probes of the site at the last look (this one included). */
    setLiveProbes(n: number) {
      liveProbes = n
      if (n > 1) warnedAlone = false
    },
    liveProbes: () => liveProbes,
    /** Targets given up because their leases could not be renewed in time. */
    expired: () => expired,
    /** No more expiry guard (a clean stop drops everything itself). */
    stop() {
      running = false
      clearTimeout(expiryTimer)
    },
  }
}

export type HeldLeases = ReturnType<typeof createHeldLeases>
