import type { TargetOut } from '@server/targets/targets.schema.js'
import { formatDateTime, formatTime } from '../lib/format'
import { stateAge } from '../lib/status'
import { StatusBadge } from './status-badge'

// The API's state of a target with when it began ("down since 12:03:10 UTC (14 min)"): the target
// page's header and the fleet table's status cell. The since text never repeats the state's word, so
// the badge alone holds it.

/** Target page header: the badge and, beside it, since when. */
export function TargetStateLine({ target }: { target: Pick<TargetOut, 'state' | 'state_since'> }) {
  return (
    <>
      <span data-testid="target-status">
        <StatusBadge status={target.state} />
      </span>
      <span className="state-since" data-testid="state-since" title={formatDateTime(target.state_since)}>
        since {formatDateTime(target.state_since)} ({stateAge(target.state_since)})
      </span>
    </>
  )
}

/** Fleet table cell: the badge; for a down target also since when, the others say it on hover. */
export function FleetStateCell({ state, since }: { state: TargetOut['state']; since: string }) {
  const text = `since ${formatTime(since)} (${stateAge(since)})`
  return (
    <>
      <StatusBadge status={state} title={`${state} ${text}`} />
      {state === 'down' && (
        <small className="state-since" data-testid="down-since">
          {text}
        </small>
      )}
    </>
  )
}
