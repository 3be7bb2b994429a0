import type { Severity } from '@server/alerts/alerts.schema.js'
import { formatDateTime, formatDuration, formatMs, formatPercent, formatTime } from '../../lib/format'
import type { IncidentOut } from './api/incidents'

// How incidents and rules read on the dashboard. Conditions are the API's (ALERT_CONDITIONS, which
// grows): known ones get a label, others show as the API names them; units come with the data.

export const SEVERITY_OPTIONS: Severity[] = ['critical', 'warning', 'info']

const CONDITION_LABELS: Record<string, string> = {
  outage: 'outage',
  loss: 'loss',
  latency_p95: 'p95 latency',
  latency_p50: 'p50 latency',
  path_change: 'path changes',
  probe_missing: 'no live probe',
}

/** The unit of a rule's threshold, where pingscope knows it (an incident says its own `unit`). */
const THRESHOLD_UNITS: Record<string, string> = { loss: '%', latency_p95: 'ms', latency_p50: 'ms', path_change: 'changes' }

export const conditionLabel = (c: string): string => CONDITION_LABELS[c] ?? c.replace(/_/g, ' ')
export const thresholdUnit = (c: string): string | undefined => THRESHOLD_UNITS[c]

/** A value in its unit: 20.0 %, 12.4 ms, 3 min 5 s. */
export function formatValue(v: number | null | undefined, unit: string | undefined): string {
  if (v === null || v === undefined) return '–'
  if (unit === 's') return formatDuration(v)
  if (unit === '%') return formatPercent(v)
  if (unit === 'ms') return formatMs(v)
  return `${Number.isInteger(v) ? v : v.toFixed(2)}${unit ? ` ${unit}` : ''}`
}

/** "down since 13:45:07 UTC (14 min 3 s)" while open; start – end (duration) once closed. */
export function incidentWhen(i: IncidentOut): string {
  if (i.ongoing) {
    const down = i.condition === 'outage'
    return `${down ? 'down' : 'firing'} since ${formatTime(down ? i.started_at : i.fired_at)} (${formatDuration(i.duration_s)})`
  }
  return `${formatDateTime(i.started_at)} – ${formatTime(i.ended_at)} (${formatDuration(i.duration_s)})`
}

export const targetLabel = (i: Pick<IncidentOut, 'target_name' | 'target_address'>): string => i.target_name ?? i.target_address

export const END_REASONS: Record<string, string> = { recovered: 'recovered', out_of_scope: 'left the rule’s scope', rule_deleted: 'rule deleted' }
