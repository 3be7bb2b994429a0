import type { Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { type ChannelRow, enabledChannels } from './channels.repo.js'
import { isSilenced, observeCondition, ruleTargets } from './conditions.js'
import { type AlertTarget, type ProbeCover, type WindowStats, listAlertTargets, openOutageStarts, pathChangeCounts, probeCover, windowStats } from './evaluator.repo.js'
import { type AlertState, INITIAL_STATE, observe } from './hysteresis.js'
import { closeOrphanIncidents, heldIncidents, updateIncidentPeak } from './incidents.repo.js'
import { type RuleRow, listRules } from './rules.repo.js'
import { activeSilences } from './silences.repo.js'
import { StateConflict, type StoredState, listStates, writeState } from './state.repo.js'
import { createPeriodic } from '../lib/periodic.js'
import { type Subject, fire, queueHeldFire, resolve } from './transitions.js'

// The evaluator: every `intervalMs` (ALERTS_EVAL_S, 10 s) one pass over every rule × target in its
// scope. A pass reads the rules, targets, states, silences and open outages, and one grouped scan of
// the 1-minute tier per distinct rule window; it feeds each rule × target's observation to the
// hysteresis (hysteresis.ts) and writes what changed. A fire or resolve is one transaction
// (transitions.ts); other state moves (pending, recovering, a new peak) are single conditional
// writes. All state is in the database: a restarted evaluator, or a second one on the same database,
// carries on from what is stored (a write that finds the state moved by another is dropped and the
// pair is judged again at the next pass).
//
// It runs on timers in the serve process, never inside the probe loop: its queries are async, short,
// and a pass never overlaps the previous one. A failed pass is logged and the next one runs as usual.

export interface EvaluatorOptions {
  sql: Sql
  log: Logger
  /** The clock (ms): observation times, incident times, outbox times. */
  now?: () => number
  intervalMs?: number
  /** How long a new notification waits for others to group with (ALERTS_GROUP_WAIT_S). */
  groupWaitMs?: number
}

export interface EvaluatorStats {
  passes: number
  failures: number
  fired: number
  resolved: number
  conflicts: number
  lastPassMs: number | null
  lastError: string | null
}

const key = (ruleId: number, targetId: number) => `${ruleId}:${targetId}`

const toState = (s: StoredState | undefined): AlertState =>
  s ? { phase: s.phase, since: s.since.getTime(), startedAt: s.startedAt?.getTime() ?? null, peak: s.peak } : INITIAL_STATE

export function createEvaluator(opts: EvaluatorOptions) {
  const { sql, log } = opts
  const now = opts.now ?? (() => Date.now())
  const intervalMs = opts.intervalMs ?? 10_000
  const groupWaitMs = opts.groupWaitMs ?? 20_000
  const stats: EvaluatorStats = { passes: 0, failures: 0, fired: 0, resolved: 0, conflicts: 0, lastPassMs: null, lastError: null }

  /** Runs one write; a conflict with another evaluator (or a rule deleted meanwhile) skips the pair. */
  async function attempt(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      if (err instanceof StateConflict) {
        stats.conflicts++
        log.debug({ what }, err.message)
      } else {
        stats.failures++
        stats.lastError = (err as Error).message
        log.warn({ err, what }, 'alert state write failed; judged again at the next pass')
      }
    }
  }

  /** One pass at `at` (default: now). Tests call it with their own clock. */
  async function tick(at = now()): Promise<void> {
    const t0 = performance.now()
    const when = new Date(at)
    const rules = await listRules(sql)
    if (rules.length === 0) {
      // Nothing to judge: the states went with their rules; only incidents left open by them remain.
      await closeOrphanIncidents(sql, when)
      stats.passes++
      stats.lastPassMs = Math.round(performance.now() - t0)
      return
    }
    const [targets, stored, silences, outages] = await Promise.all([
      listAlertTargets(sql),
      listStates(sql),
      activeSilences(sql, when),
      openOutageStarts(sql),
    ])
    const states = new Map(stored.map((s) => [key(s.ruleId, s.targetId), s]))
    const byId = new Map(targets.map((t) => [t.id, t]))

    // One scan of the 1-minute tier per distinct window, over the targets of the rules that need it;
    // likewise one count of path changes per window, and one look at the probe leases.
    const windows = new Map<number, Set<number>>()
    const pathWindows = new Map<number, Set<number>>()
    const covered = new Set<number>()
    const scopes = new Map<number, AlertTarget[]>()
    for (const r of rules) {
      const scope = ruleTargets(r, targets)
      scopes.set(r.id, scope)
      if (r.condition === 'outage') continue
      if (r.condition === 'probe_missing') {
        for (const t of scope) covered.add(t.id)
        continue
      }
      const into = r.condition === 'path_change' ? pathWindows : windows
      const ids = into.get(r.windowS) ?? new Set<number>()
      for (const t of scope) ids.add(t.id)
      into.set(r.windowS, ids)
    }
    const figures = new Map<number, Map<number, WindowStats>>()
    for (const [windowS, ids] of windows) figures.set(windowS, await windowStats(sql, [...ids], new Date(at - windowS * 1000), when))
    const pathChanges = new Map<number, Map<number, number>>()
    for (const [windowS, ids] of pathWindows) pathChanges.set(windowS, await pathChangeCounts(sql, [...ids], new Date(at - windowS * 1000), when))
    const cover: Map<number, ProbeCover> = covered.size ? await probeCover(sql, [...covered], when) : new Map()

    const channelCache = new Map<number, ChannelRow[]>()
    const subject = async (rule: RuleRow, target: Subject['target']): Promise<Subject> => {
      let channels = channelCache.get(rule.id)
      if (!channels) channelCache.set(rule.id, (channels = await enabledChannels(sql, rule.channelIds)))
      return { rule, target, channels, groupWaitMs }
    }

    const seen = new Set<string>()
    for (const rule of rules) {
      for (const target of scopes.get(rule.id) ?? []) {
        const k = key(rule.id, target.id)
        seen.add(k)
        const prev = states.get(k)
        const obs = observeCondition(rule, at, {
          stats: figures.get(rule.windowS)?.get(target.id),
          outageStart: outages.get(target.id),
          pathChanges: pathChanges.get(rule.windowS)?.get(target.id),
          cover: cover.get(target.id),
        })
        const { state: next, transition } = observe(toState(prev), obs, { forMs: rule.forS * 1000, recoverMs: rule.recoverS * 1000 })
        const version = prev?.version ?? 0
        if (transition?.kind === 'fire') {
          const notify = !rule.muted && !isSilenced(target, silences)
          await attempt(`fire ${k}`, async () => {
            const incident = await fire(sql, await subject(rule, target), version, next, transition, notify)
            stats.fired++
            log.info({ incident, rule: rule.name, target: target.address, value: transition.value, notified: notify }, 'incident opened')
          })
        } else if (transition?.kind === 'resolve') {
          await attempt(`resolve ${k}`, async () => {
            await resolve(sql, await subject(rule, target), version, prev?.incidentId ?? null, { endedAt: new Date(transition.at), peak: transition.peak, reason: 'recovered', at: when })
            stats.resolved++
            log.info({ incident: prev?.incidentId, rule: rule.name, target: target.address, peak: transition.peak }, 'incident resolved')
          })
        } else if (changed(prev, next)) {
          await attempt(`state ${k}`, async () => {
            const incidentId = prev?.incidentId ?? null
            await writeState(sql, rule.id, target.id, version, next.phase === 'ok' ? null : { ruleId: rule.id, targetId: target.id, phase: next.phase, since: new Date(next.since), startedAt: next.startedAt === null ? null : new Date(next.startedAt), peak: next.peak, incidentId })
            if (incidentId !== null && next.peak !== null && next.peak !== prev?.peak) await updateIncidentPeak(sql, incidentId, next.peak)
          })
        }
      }
    }

    // Pairs that left their rule's scope (target deleted, paused, retagged; rule rescoped): the
    // incident closes (resolve notified as usual) and the state goes.
    const ruleById = new Map(rules.map((r) => [r.id, r]))
    for (const s of stored) {
      const rule = ruleById.get(s.ruleId)
      if (!rule || seen.has(key(s.ruleId, s.targetId))) continue
      const target = byId.get(s.targetId)
      await attempt(`out of scope ${key(s.ruleId, s.targetId)}`, async () => {
        const t = target ?? { id: s.targetId, address: '', name: null, tags: [] }
        await resolve(sql, await subject(rule, t), s.version, s.incidentId, { endedAt: when, peak: s.peak, reason: 'out_of_scope', at: when })
        if (s.incidentId !== null) stats.resolved++
      })
    }

    // Held fire notifications whose silence has ended (or whose rule was unmuted), if still open.
    for (const inc of await heldIncidents(sql)) {
      const rule = ruleById.get(inc.ruleId ?? 0)
      const target = byId.get(inc.targetId)
      if (!rule || !target || isSilenced(target, silences)) continue
      await attempt(`held ${inc.id}`, async () => queueHeldFire(sql, await subject(rule, target), inc, when))
    }
    await closeOrphanIncidents(sql, when)
    stats.passes++
    stats.lastPassMs = Math.round(performance.now() - t0)
  }

  const loop = createPeriodic(() => tick(), intervalMs, (err) => {
    stats.failures++
    stats.lastError = err.message
    log.warn({ err }, 'alert evaluation failed')
  })

  return {
    tick,
    start: () => loop.start(),
    stop: () => loop.stop(),
    stats: (): EvaluatorStats => ({ ...stats }),
  }
}

export type Evaluator = ReturnType<typeof createEvaluator>

function changed(prev: StoredState | undefined, next: AlertState): boolean {
  if (!prev) return next.phase !== 'ok'
  return prev.phase !== next.phase || prev.since.getTime() !== next.since || prev.peak !== next.peak || (prev.startedAt?.getTime() ?? null) !== next.startedAt
}
