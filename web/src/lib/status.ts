import type { TargetOut } from '@server/targets/targets.schema.js'
import type { FleetStatus } from '../components/status-badge'
import type { LiveTargetFigures } from '@server/live/live.types.js'

// A target's status as the dashboard shows it. The API knows up / down / paused / unknown; "degraded"
// is ours: answering, but losing echoes.

/** A target answering but losing at least this share of echoes over the last hour is "degraded". */
export const DEGRADED_LOSS_PERCENT = 1

/** The last round of a target as the live stream reported it. */
export type LiveFigures = Pick<LiveTargetFigures, 'rttMs' | 'loss' | 'time'>

export function targetStatus(t: TargetOut, lossPercent: number | null, live: LiveFigures | undefined): FleetStatus {
  if (!t.is_active) return 'paused'
  if (t.state === 'down') return 'down'
  // A reply seen live counts even before the list is refreshed (a target added a second ago).
  const up = t.state === 'up' || (live !== undefined && live.rttMs !== null)
  if (!up) return 'unknown'
  if (live && live.loss > 0) return 'degraded'
  return lossPercent !== null && lossPercent >= DEGRADED_LOSS_PERCENT ? 'degraded' : 'up'
}
