import type { Sql } from '../db/open.js'
import { AppError } from '../errors.js'
import { closeOutage, openOutage } from '../outages/outages.repo.js'
import { LEASE_HEARTBEATS, fairShare, planLeases } from '../probe/lease-plan.js'
import { claimLeases, dropLeases, findProbeHolder, heartbeat, leaveFleet, registerProbe, releaseLeases, viewSite } from '../probe/probes.repo.js'
import { type Sample, insertSamples } from '../probe/writer.js'
import { ensureSite } from '../sites/sites.repo.js'
import { agentRowName, agentTargets, allowBackfill, existingTargets, isAgentRow, recordBatch, setBatchStored, validLeases } from './agent.repo.js'
import type { HeartbeatBody, HeartbeatOut, SamplesBody, SamplesOut } from './agent.schema.js'

// The server's half of the remote probe agent (src/agent/agent.ts is the other). An agent is a member of
// its site's fleet like a local probe (src/probe/leases.ts), with the lease logic run here on its behalf
// at each heartbeat, from the `held` list it sends: the same registration, renewal, fair share and
// claims (probes.repo.ts, lease-plan.ts), so agents and local probes of one site share its targets with
// the same guarantees. What differs is the release: the server cannot stop the agent's rounds, so it
// answers `release` and keeps those leases until the agent has stopped probing them and says so by
// leaving them out of `held`; only then are they released (dated at that heartbeat).

/** The probe token's site and id (auth.service.ts AuthUser.probe). */
export interface ProbeCredential {
  site: string
  tokenId: number
}

export interface AgentDeps {
  sql: Sql
  /** The heartbeat the server asks of its agents (PROBE_HEARTBEAT_MS): leases last 3 of them. */
  heartbeatMs: number
  /** Samples older than this many days (the raw retention) would be dropped with their chunk anyway. */
  rawRetentionDays: number
  now?: () => number
}

export async function agentHeartbeat(deps: AgentDeps, cred: ProbeCredential, body: HeartbeatBody): Promise<HeartbeatOut> {
  const { sql } = deps
  const now = deps.now ?? (() => performance.timeOrigin + performance.now())
  const site = cred.site
  const hb = deps.heartbeatMs
  const ttlMs = LEASE_HEARTBEATS * hb
  await ensureSite(sql, site)
  const lastError = [body.last_error, body.dropped_rows > 0 ? `${body.dropped_rows} samples dropped from its buffer` : null].filter(Boolean).join('; ') || null

  // The agent's tenure: renewed if it is still its own, else a new one (as a local probe re-registers).
  let reg = body.session ? { id: body.session.id, startedAt: body.session.started_at } : null
  let renewed: number[] | null = null
  if (reg && (await isAgentRow(sql, { ...reg, name: body.name, site }))) {
    renewed = await heartbeat(sql, { id: reg.id, site, startedAt: reg.startedAt, held: body.held, ttlMs, lastError })
  }
  if (renewed === null) {
    reg = await registerProbe(sql, { name: body.name, site, version: body.version, hostname: body.hostname, pid: body.pid, heartbeatMs: hb, capacity: null })
    if (!reg) {
      const h = await findProbeHolder(sql, body.name)
      throw new AppError(409, `probe name "${body.name}" is in use by a live probe${h ? ` (host ${h.hostname}, pid ${h.pid})` : ''}: give each agent its own PROBE_NAME`)
    }
    // A new tenure holds nothing yet: whatever the agent probed, it keeps only what it is given below.
    renewed = []
  }
  const me = { id: reg!.id, site }

  // Leases it holds but no longer lists: it has stopped probing them (after a `release`, or on its own).
  const listed = new Set(body.held)
  const view = await viewSite(sql, me)
  const paused = new Set(view.paused)
  const unlisted = (await validLeases(sql, me)).filter((id) => !listed.has(id))
  const pausedGone = view.paused.filter((id) => !listed.has(id))
  // Paused targets' leases go (resumed, such a target is new to the fleet); the others are released.
  if (pausedGone.length) await dropLeases(sql, { ...me, targetIds: pausedGone })
  await releaseLeases(sql, { ...me, targetIds: unlisted.filter((id) => !paused.has(id)), idleMs: 0 })

  const keep = renewed.filter((id) => !paused.has(id))
  const share = fairShare(view.enabled, view.live)
  const plan = planLeases({ held: keep, share, free: view.free })
  const release = new Set(plan.release)
  // Claimed now: when (this process's clock) the previous holder was done, no earlier than the truth
  // (the database read its clock before its answer arrived here); null: nobody held the target.
  const doneAt = new Map<number, number | null>()
  if (plan.claim > 0) {
    const won = await claimLeases(sql, { ...me, n: plan.claim, ttlMs })
    const answeredAt = now()
    for (const c of won) doneAt.set(c.targetId, c.freeForMs === null ? null : answeredAt - c.freeForMs)
  }
  const ids = [...keep.filter((id) => !release.has(id)), ...doneAt.keys()]
  const rows = await agentTargets(sql, ids, site)
  // Ages are taken as the answer leaves: the agent dates them from its arrival (leases.ts's rule).
  const sentAt = now()
  return {
    session: { id: reg!.id, started_at: reg!.startedAt },
    site,
    heartbeat_ms: hb,
    live_probes: view.live,
    share,
    targets: rows.map((t) => {
      const done = doneAt.get(t.id)
      return {
        id: t.id,
        address: t.address,
        interval_s: t.intervalS,
        packets: t.packets,
        timeout_ms: t.timeoutMs,
        done_at_ms_ago: done === undefined || done === null ? null : Math.max(0, sentAt - done),
        open_outage_lost_rounds: t.openLostRounds,
      }
    }),
    // Beyond its share, or paused (no longer probed from this site): stop, then leave out of `held`.
    release: [...release, ...renewed.filter((id) => paused.has(id))],
  }
}

/** A clean stop of an agent (SIGTERM): its leases released, dated `idleMs` back, its row marked stopped. */
export async function agentLeave(sql: Sql, cred: ProbeCredential, session: { id: number; started_at: string }, idleMs: number): Promise<void> {
  const name = await agentRowName(sql, { id: session.id, startedAt: session.started_at, site: cred.site })
  if (name === null) return // gone already (pruned, taken over, or left before): nothing to release
  await leaveFleet(sql, { id: session.id, startedAt: session.started_at, idleMs })
}

/**
 * One batch of an agent, in one transaction: its id recorded (seen before: nothing applied, `duplicate`),
 * its samples inserted for the token's site (a sample already stored is not stored again, whichever
 * batch brought it), then its outage transitions in order. Samples of targets that do not exist are
 * dropped and counted; a target the agent does not lease is accepted (a round measured just before a
 * handover is a real sample), and so is one another site probes.
 */
export async function ingestBatch(deps: AgentDeps, cred: ProbeCredential, body: SamplesBody): Promise<SamplesOut> {
  const { sql } = deps
  const siteId = await ensureSite(sql, cred.site)
  const nowMs = Date.now()
  const oldest = nowMs - deps.rawRetentionDays * 86_400_000
  const newest = nowMs + 86_400_000
  const inRange = body.samples.filter((s) => s.time.getTime() >= oldest && s.time.getTime() <= newest)
  const known = await existingTargets(sql, [...new Set(inRange.map((s) => s.target_id))])
  const rows: Sample[] = inRange
    .filter((s) => known.has(s.target_id))
    .map((s) => ({ time: s.time, targetId: s.target_id, seq: s.seq, rttUs: s.rtt_us, ttl: s.ttl, jitterUs: s.jitter_us, status: s.status, reporter: s.reporter }))
  const answer = { rows: body.samples.length, unknown_targets: inRange.length - rows.length, out_of_range: body.samples.length - inRange.length }
  return sql.begin(async (tx) => {
    if (!(await recordBatch(tx, { batchId: body.batch_id, tokenId: cred.tokenId, site: cred.site, rows: body.samples.length }))) {
      return { duplicate: true, stored: 0, ...answer, unknown_targets: 0, out_of_range: 0 }
    }
    await allowBackfill(tx)
    const stored = await insertSamples(tx, rows, siteId)
    for (const o of body.outages) {
      if (o.type === 'open') await openOutage(tx, { targetId: o.target_id, startedAt: o.started_at, lostRounds: o.lost_rounds, cause: o.cause, site: cred.site })
      else await closeOutage(tx, { targetId: o.target_id, endedAt: o.ended_at, lostRounds: o.lost_rounds, site: cred.site })
    }
    await setBatchStored(tx, body.batch_id, stored)
    return { duplicate: false, stored, ...answer }
  })
}
