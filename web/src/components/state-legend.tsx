import { DEGRADED_LOSS_PERCENT, LOSS_WINDOW_MINUTES } from '../lib/status'

/** What the states mean: the API's definition (src/targets/target-state.ts), in one line. */
export function StateLegend() {
  return (
    <small className="muted" data-testid="state-legend">
      degraded: answering but ≥ {DEGRADED_LOSS_PERCENT} % loss over the last {LOSS_WINDOW_MINUTES === 60 ? 'hour' : `${LOSS_WINDOW_MINUTES} min`}; down: an open
      outage
    </small>
  )
}
