import type { ReactNode } from 'react'
import { formatDateTime } from '../../../lib/format'
import { RANGES, type Range } from '../api/targets'

/** The preset windows, a zoomed window with its reset, and what the page says about the data (children). */
export function RangeBar({ range, onRange, children }: { range: Range; onRange: (r: Range) => void; children?: ReactNode }) {
  return (
    <div className="range-bar" role="group" aria-label="Time range">
      {RANGES.map((r) => (
        <button key={r.key} type="button" aria-pressed={'key' in range && range.key === r.key} onClick={() => onRange({ key: r.key })}>
          {r.label}
        </button>
      ))}
      {'from' in range && (
        <>
          <span className="zoomed">
            {formatDateTime(new Date(range.from).toISOString())} – {formatDateTime(new Date(range.to).toISOString())}
          </span>
          <button type="button" onClick={() => onRange({ key: '1h' })}>
            Reset zoom
          </button>
        </>
      )}
      {children}
    </div>
  )
}
