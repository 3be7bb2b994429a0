import { estimatePercentile } from '../insights/histogram.js'
import type { AlertTarget, ProbeCover, WindowStats } from './evaluator.repo.js'
import type { Observation } from './hysteresis.js'
import type { RuleRow } from './rules.repo.js'

// From what the database says to what the hysteresis needs, pure: which targets a rule covers, and
// whether its condition holds for one of them at one moment.

/** The targets a rule covers: its target, the targets with its tag, or all; paused targets never. */
export function ruleTargets(rule: Pick<RuleRow, 'scope' | 'targetId' | 'tag'>, targets: readonly AlertTarget[]): AlertTarget[] {
  return targets.filter(
    (t) => t.enabled && (rule.scope === 'all' || (rule.scope === 'target' && t.id === rule.targetId) || (rule.scope === 'tag' && rule.tag !== null && t.tags.includes(rule.tag))),
  )
}

const QUANTILE = { latency_p95: 0.95, latency_p50: 0.5 } as const

/**
 * The rule's condition for one target at `at`: met or not, and its value (loss %, latency ms, outage
 * seconds, path changes in the window, seconds without a live probe). `met: null` (nothing to judge by:
 * no echo in the window, or no reply for a latency) moves nothing, so a silent host is judged by its
 * loss and outage rules, never by a latency rule.
 */
export function observeCondition(
  rule: Pick<RuleRow, 'condition' | 'threshold'>,
  at: number,
  data: { stats: WindowStats | undefined; outageStart: Date | undefined; pathChanges?: number | undefined; cover?: ProbeCover | undefined },
): Observation {
  const threshold = rule.threshold ?? 0
  switch (rule.condition) {
    case 'outage': {
      if (!data.outageStart) return { at, met: false, value: null }
      return { at, met: true, value: Math.max(0, (at - data.outageStart.getTime()) / 1000) }
    }
    case 'loss': {
      const s = data.stats
      if (!s || s.sent <= 0) return { at, met: null, value: null }
      const value = ((s.sent - s.received) / s.sent) * 100
      return { at, met: value >= threshold, value }
    }
    case 'latency_p95':
    case 'latency_p50': {
      const us = data.stats ? estimatePercentile(data.stats.histogram, QUANTILE[rule.condition]) : null
      if (us === null) return { at, met: null, value: null }
      const value = us / 1000
      return { at, met: value >= threshold, value }
    }
    case 'path_change': {
      const value = data.pathChanges ?? 0
      return { at, met: value >= Math.max(1, threshold), value }
    }
    case 'probe_missing': {
      if (!data.cover) return { at, met: null, value: null }
      if (data.cover.held) return { at, met: false, value: null }
      const expiry = data.cover.lastExpiry
      return { at, met: true, value: expiry ? Math.max(0, (at - expiry.getTime()) / 1000) : null }
    }
  }
}

/** Whether a silence covers the target: by its id, or by one of its tags. */
export function isSilenced(target: Pick<AlertTarget, 'id' | 'tags'>, silences: readonly { targetId: number | null; tag: string | null }[]): boolean {
  return silences.some((s) => (s.targetId !== null && s.targetId === target.id) || (s.tag !== null && target.tags.includes(s.tag)))
}
