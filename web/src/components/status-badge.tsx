export type FleetStatus = 'up' | 'degraded' | 'down' | 'paused' | 'unknown'

export function StatusBadge({ status }: { status: FleetStatus }) {
  return (
    <span className={`status status-${status}`}>
      <span className="dot" aria-hidden="true" />
      {status}
    </span>
  )
}
