import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { createHeldLeases } from './held-leases.js'
import { LEASE_HEARTBEATS, fairShare, leaseDeadline, planLeases, previousHolderDone } from './lease-plan.js'
import {
  type ProbeIdentity,
  type ProbeRegistration,
  claimLeases,
  dropLeases,
  findProbeHolder,
  heartbeat,
  leaveFleet,
  registerProbe,
  releaseLeases,
  viewSite,
} from './probes.repo.js'

// One probe process's membership of the fleet: it registers a row in `probes`, heartbeats it every
// heartbeatMs and renews its leases for 3 heartbeats; every pollMs it claims free or expired leases up to
// its fair share of the site (ceil(enabled targets / live probes)) and gives back what it holds beyond
// it, after the scheduler has stopped probing those targets. A probe that stops heartbeating is no longer
// live, and its leases expire, 3 heartbeats after its last heartbeat; the others watch for that moment
// and claim them then. A probe that cannot renew stops probing on its own 2 heartbeats after its last
// renewal, before anyone may take its targets: two processes never probe one target at once. Except a
// probe that was alone in its site: nobody is there to take over, so it probes on through a database
// outage (the writer buffers, as without a fleet) and renews what nobody claimed once it is back.

export interface LeaseKeeperOptions {
  sql: Sql
  log: Logger
  identity: ProbeIdentity
  /** How often to look for free leases and surplus (PROBE_RELOAD_MS). */
  pollMs: number
  /** The scheduler's clock (ms since the epoch). */
  now?: () => number
  /** Stop probing these targets; resolves when none of their rounds is still in flight. */
  drain: (targetIds: number[]) => Promise<void>
  /** Targets were claimed: the scheduler should pick them up now. */
  onChange: () => void
}

export interface LeaseStatus {
  name: string
  site: string
  registered: boolean
  /** Targets leased to this probe. */
  held: number
  /** Its fair share at the last look, and the live probes of its site it was computed from. */
  share: number
  liveProbes: number
  claimed: number
  released: number
  /** Leases given up because they could not be renewed in time. */
  expired: number
  lastError: string | null
}

export function createLeaseKeeper(opts: LeaseKeeperOptions) {
  const { sql, log, identity } = opts
  const site = identity.site
  const now = opts.now ?? (() => performance.timeOrigin + performance.now())
  const hb = identity.heartbeatMs
  const ttlMs = LEASE_HEARTBEATS * hb
  const held = createHeldLeases({ log, now, drain: opts.drain })
  let reg: ProbeRegistration | null = null
  let lastBeat = -Infinity
  let running = false
  let loopTimer: NodeJS.Timeout | undefined
  let current: Promise<void> = Promise.resolve()
  // Off during start(): the scheduler's first load picks up the first claims by itself.
  let notify = false
  let share = 0
  const counts = { claimed: 0, released: 0 }
  let lastError: string | null = null
  const drop = held.drop

  async function register(): Promise<ProbeRegistration | null> {
    const r = await registerProbe(sql, identity)
    if (r) {
      lastBeat = now()
      log.info({ probe: identity.name, site, id: r.id }, 'probe registered')
    }
    return r
  }

  async function beat(me: ProbeRegistration) {
    const sentAt = now()
    const ids = held.ids()
    const renewed = await heartbeat(sql, { id: me.id, site, startedAt: me.startedAt, held: ids, ttlMs, lastError })
    if (renewed === null) {
      // Removed, or taken by another process under the same name after we missed 3 heartbeats.
      log.error({ probe: identity.name }, 'probe row no longer ours: stopped probing, registering again')
      reg = null
      await drop(held.ids())
      return
    }
    lastBeat = sentAt
    const kept = new Set(renewed)
    // Not renewed: the target was deleted, or another probe took the lease after it ran out.
    await drop(ids.filter((id) => !kept.has(id)))
    // Dropped here meanwhile (expiry guard) but renewed there: give them back rather than hold them idle.
    const stray = renewed.filter((id) => !held.has(id))
    if (stray.length) await releaseLeases(sql, { id: me.id, site, targetIds: stray, idleMs: 0 })
    held.validUntil(leaseDeadline(sentAt, hb))
  }

  /** Claims or gives back toward the fair share; returns how long until the next look may be needed. */
  async function balance(me: ProbeRegistration): Promise<number> {
    const view = await viewSite(sql, { id: me.id, site })
    if (view.paused.length) {
      await drop(view.paused)
      await dropLeases(sql, { id: me.id, site, targetIds: view.paused })
    }
    held.setLiveProbes(view.live)
    share = fairShare(view.enabled, view.live)
    const plan = planLeases({ held: held.ids(), share, free: view.free })
    if (plan.release.length) {
      const doneAt = await drop(plan.release) // the scheduler has stopped probing them: only now may another start
      await releaseLeases(sql, { id: me.id, site, targetIds: plan.release, idleMs: now() - doneAt })
      counts.released += plan.release.length
      log.info({ released: plan.release.length, held: held.size(), share, liveProbes: view.live }, 'leases given back')
    }
    if (plan.claim > 0) {
      const sentAt = now()
      const won = await claimLeases(sql, { id: me.id, site, n: plan.claim, ttlMs })
      const answeredAt = now()
      if (won.length) {
        if (held.size() === 0) held.validUntil(leaseDeadline(sentAt, hb))
        held.take(won.map((c) => [c.targetId, previousHolderDone(answeredAt, c.freeForMs)] as const))
        counts.claimed += won.length
        log.info({ claimed: won.length, held: held.size(), share, liveProbes: view.live }, 'leases claimed')
        if (notify) opts.onChange()
      }
    }
    // Another probe's lease about to run out (it stopped heartbeating): look again the moment it does.
    return view.nextExpiryMs === null ? opts.pollMs : Math.min(opts.pollMs, view.nextExpiryMs + 5)
  }

  async function iterate(): Promise<number> {
    try {
      reg ??= await register()
      if (!reg) return hb // the name is still held by a live probe
      if (now() - lastBeat >= hb) await beat(reg)
      if (!reg) return 0
      const next = await balance(reg)
      lastError = null
      return Math.min(next, lastBeat + hb - now())
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      if (message !== lastError) log.warn({ err: message }, 'probe fleet: database step failed; retrying')
      lastError = message
      return Math.min(opts.pollMs, hb)
    }
  }

  function loop(delayMs: number) {
    if (!running) return
    loopTimer = setTimeout(() => {
      current = iterate().then(loop)
    }, Math.max(0, delayMs))
  }

  return {
    view: held.view,
    /**
     * Registers (waiting up to 3 heartbeats for a name a killed predecessor still holds) and claims the
     * first share, so the scheduler's first load already knows its targets.
     */
    async start() {
      const giveUpAt = now() + (LEASE_HEARTBEATS + 1) * hb
      while (!(reg = await register())) {
        if (now() >= giveUpAt) {
          const h = await findProbeHolder(sql, identity.name)
          throw new Error(
            `PROBE_NAME "${identity.name}" is in use by a live probe${h ? ` (host ${h.hostname}, pid ${h.pid}, heartbeat ${h.heartbeatAgeS.toFixed(1)} s ago)` : ''}: give each probe process its own name`,
          )
        }
        await new Promise((r) => setTimeout(r, Math.min(hb, 500)))
      }
      running = true
      const next = await balance(reg)
      notify = true
      loop(Math.min(next, hb))
    },
    /**
     * Stops probing every held target, then releases them all and marks the probe stopped, in one go.
     * Against an unreachable database it waits a heartbeat for each step, then lets the leases expire.
     */
    async stop() {
      running = false
      clearTimeout(loopTimer)
      held.stop()
      await Promise.race([current, new Promise((r) => setTimeout(r, hb).unref())])
      const doneAt = await drop(held.ids())
      if (!reg) return
      const me = reg
      try {
        await Promise.race([
          leaveFleet(sql, { ...me, idleMs: now() - doneAt }),
          new Promise((_, reject) => setTimeout(() => reject(new Error('the database did not answer')), hb).unref()),
        ])
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not release leases; they expire within 3 heartbeats')
      }
    },
    status(): LeaseStatus {
      return { name: identity.name, site, registered: reg !== null, held: held.size(), share, liveProbes: held.liveProbes(), ...counts, expired: held.expired(), lastError }
    },
  }
}

export type LeaseKeeper = ReturnType<typeof createLeaseKeeper>
