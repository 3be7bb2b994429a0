import type { TargetOut } from '@server/targets/targets.schema.js'
import type { LiveTargetFigures } from '@server/live/live.types.js'
import { DEGRADED_LOSS_PERCENT as API_DEGRADED_LOSS_PERCENT, LOSS_WINDOW_MINUTES, formatStateAge } from '../../../src/targets/target-state'
import type { FleetStatus } from '../components/status-badge'

// A target's status is the API's `state` (src/targets/target-state.ts, the one definition used by the
// API, the badges and the CLI): the dashboard shows it and never decides it. Live rounds refresh the
// figures next to it; a change of state arrives as a `targets` event, on which the lists are re-read.

/** The API's threshold, for the legend: answering but losing this share over the loss window is degraded. */
export const DEGRADED_LOSS_PERCENT = API_DEGRADED_LOSS_PERCENT
export { LOSS_WINDOW_MINUTES }

/** The last round of a target as the live stream reported it. */
export type LiveFigures = Pick<LiveTargetFigures, 'rttMs' | 'loss' | 'time'>

/** The API's state. The other arguments are ignored: neither last-hour loss nor live rounds change the label. */
export function targetStatus(t: TargetOut, _lossPercent?: number | null, _live?: LiveFigures): FleetStatus {
  return t.state
}

/** How long the target has been in its state: `12 min`. */
export const stateAge = (since: string, now = Date.now()): string => formatStateAge(now - Date.parse(since))

/** Documentation addresses (RFC 5737, RFC 3849): seeded history uses them; probing them sends echoes to nobody's host. */
export function isDocumentationAddress(ip: string): boolean {
  return /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(ip) || /^2001:0?db8(:|$)/i.test(ip)
}
