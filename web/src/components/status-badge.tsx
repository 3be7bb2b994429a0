import type { TargetState } from '@server/targets/target-state.js'

export type FleetStatus = TargetState

/** The API's state of a target; `title` may say since when. */
export function StatusBadge({ status, title }: { status: FleetStatus; title?: string }) {
  return (
    <span className={`status status-${status}`} title={title}>
      <span className="dot" aria-hidden="true" />
      {status}
    </span>
  )
}
