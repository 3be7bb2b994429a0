import { type CSSProperties, memo } from 'react'
import { formatDateTime, formatTime } from '../../../lib/format'
import type { TimeZoneChoice } from '../../../lib/time-zone'
import type { PathRun } from '../api/paths'
import { cellTitle, hopLossColor, pathLetter } from '../path-model'

// The hop × time view: a column per run (oldest left), a row per hop number, each cell coloured by the
// hop's loss with its address and mean RTT in the title. Above the hops, a row of path-change markers
// and a row naming each run's path. Plain DOM in a flex row: 300 runs × 30 hops is 9,000 small boxes,
// and a column only re-renders when its selection changes. A click picks a run for the diff (keyboard
// users pick them in the lists under the view).

export type Pick = 'a' | 'b' | null

interface ColumnProps {
  run: PathRun
  rows: number
  pathIdx: number | undefined
  pick: Pick
  /** This column carries a time label under the view (every few columns, as wide as the label needs). */
  tick: boolean
  zone: TimeZoneChoice
  onPick: (id: number) => void
  onCompare: (id: number) => void
}

const RunColumn = memo(function RunColumn({ run, rows, pathIdx, pick, tick, onPick, onCompare }: ColumnProps) {
  const byHop = new Map(run.hops.map((h) => [h.hop, h]))
  const letter = pathIdx === undefined ? '?' : pathLetter(pathIdx)
  return (
    <div
      className={`hop-col${pick ? ` picked picked-${pick}` : ''}`}
      data-run-id={run.id}
      data-path-changed={run.path_changed || undefined}
      onClick={() => onPick(run.id)}
      title={formatDateTime(run.started_at)}
    >
      <span className="hop-cell hop-marker">
        {run.path_changed && (
          <button
            type="button"
            className="path-change"
            title={`Path changed at ${formatDateTime(run.started_at)}: compare with the run before`}
            aria-label={`Path changed at ${formatDateTime(run.started_at)}: compare with the run before`}
            onClick={(e) => {
              e.stopPropagation()
              onCompare(run.id)
            }}
          >
            ▼
          </button>
        )}
      </span>
      <span className={`hop-cell hop-path path-${(pathIdx ?? 0) % 8}`} title={`Path ${letter}`}>
        {pick ? pick.toUpperCase() : ''}
      </span>
      {Array.from({ length: rows }, (_, i) => {
        const h = byHop.get(i + 1)
        return h ? (
          <span key={i} className="hop-cell" style={{ background: hopLossColor(h.loss_pct) }} title={cellTitle(run, h)} data-loss={h.loss_pct} />
        ) : (
          <span key={i} className="hop-cell hop-none" />
        )
      })}
      <span className="hop-cell hop-tick">{tick && <span>{formatTime(run.started_at)}</span>}</span>
    </div>
  )
})

/** Wide columns for a few runs, 5 px for hundreds (then the view scrolls sideways). */
const columnWidth = (n: number): number => (n <= 30 ? 24 : n <= 80 ? 12 : n <= 160 ? 7 : 5)

export function HopGrid({
  runs,
  rows,
  pathOf,
  picked,
  zone,
  onPick,
  onCompare,
}: {
  runs: PathRun[]
  rows: number
  pathOf: (run: PathRun) => number | undefined
  picked: { a: number | null; b: number | null }
  zone: TimeZoneChoice
  onPick: (id: number) => void
  onCompare: (id: number) => void
}) {
  const width = columnWidth(runs.length)
  // Labels about 7 px a character apart: "13:45:07 UTC" today, with the date before.
  const every = Math.max(1, Math.ceil(((runs.at(-1) ? formatTime(runs.at(-1)!.started_at).length : 12) * 7 + 16) / (width + 1)))
  return (
    <>
      <figure className="hop-grid" data-testid="hop-grid" aria-label={`Per-hop loss of ${runs.length} traceroute runs, ${rows} hops`}>
        <div className="hop-grid-body">
          <div className="hop-labels" aria-hidden="true">
            <span className="hop-cell hop-marker" title="path changed">Δ</span>
            <span className="hop-cell">path</span>
            {Array.from({ length: rows }, (_, i) => (
              <span key={i} className="hop-cell">
                {i + 1}
              </span>
            ))}
          </div>
          <div className="hop-cols" style={{ '--col-w': `${width}px` } as CSSProperties}>
            {runs.map((r, i) => (
              <RunColumn
                key={r.id}
                run={r}
                rows={rows}
                pathIdx={pathOf(r)}
                pick={picked.a === r.id ? 'a' : picked.b === r.id ? 'b' : null}
              tick={i % every === 0}
                zone={zone}
                onPick={onPick}
                onCompare={onCompare}
              />
            ))}
          </div>
        </div>
      </figure>
      <p className="hop-legend muted">
        Loss per hop: <span className="loss-scale" aria-hidden="true" /> 0 % – 100 %; grey: no such hop in that run;{' '}
        <span className="path-change-key">▼</span> path changed (click it to compare with the run before).
      </p>
    </>
  )
}
