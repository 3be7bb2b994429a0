import { formatMs } from '../../../lib/format'
import { LOSS_BANDS } from './loss-colors'
import type { LinearScale } from './scale'

// What the chart's colours and marks mean, the log-scale switch, and, when the linear axis cuts off
// high values, by how much.

interface Props {
  log: boolean
  onLogChange: (log: boolean) => void
  scale: LinearScale
}

export function ChartKeys({ log, onLogChange, scale }: Props) {
  return (
    <div className="chart-keys">
      <label className="log-toggle">
        <input type="checkbox" checked={log} onChange={(e) => onLogChange(e.target.checked)} /> Log scale
      </label>
      <span className="loss-key" role="group" aria-label="Median colour by loss">
        <span className="muted">median by loss:</span>
        {LOSS_BANDS.map((b) => (
          <span key={b.label} className="loss-band">
            <span className="swatch" aria-hidden="true" style={{ background: b.color }} />
            {b.label}
          </span>
        ))}
      </span>
      {!log && scale.clipped.length > 0 && (
        <span className="clip-note" data-testid="clip-note">
          <span className="key-clip" aria-hidden="true">
            ▲
          </span>{' '}
          axis cut at {formatMs(scale.top)}: {scale.clipped.length} bucket{scale.clipped.length > 1 ? 's' : ''} above, up to{' '}
          {formatMs(scale.clippedMax)}
        </span>
      )}
    </div>
  )
}
