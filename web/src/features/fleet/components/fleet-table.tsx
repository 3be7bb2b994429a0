import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { FleetStateCell } from '../../../components/target-state'
import { formatInterval, formatMs, formatPercent, formatTime } from '../../../lib/format'
import { Link } from '../../../lib/router'
import { MAX_COMPARE } from '../../compare/compare-url'
import type { FleetRow, Sort, SortKey } from '../fleet-model'
import { Sparkline } from './sparkline'

// The fleet table stays fast at thousands of rows by rendering only the rows in view (plus a margin)
// between two spacer rows; every row has the same height, so positions are arithmetic.

const ROW_HEIGHT = 40
const OVERSCAN = 8

const COLUMNS: { key: SortKey | null; label: string; className?: string }[] = [
  { key: 'status', label: 'Status', className: 'col-status' },
  { key: 'name', label: 'Name', className: 'col-name' },
  { key: 'ip', label: 'Address', className: 'col-ip' },
  { key: 'lastRttMs', label: 'Last RTT', className: 'col-num' },
  { key: 'lossPercent', label: 'Loss 1 h', className: 'col-num' },
  { key: 'p95Ms', label: 'p95 1 h', className: 'col-num' },
  { key: null, label: 'Last hour', className: 'col-spark' },
  { key: 'tags', label: 'Tags', className: 'col-tags' },
  { key: 'sites', label: 'Sites', className: 'col-sites' },
  { key: 'interval', label: 'Interval', className: 'col-num col-interval' },
]
/** The columns without Sites, for a fleet with one site and no target listing any. */
const ONE_SITE_COLUMNS = COLUMNS.filter((c) => c.key !== 'sites')

/** The rows' checkboxes (the selection to compare, kept in the URL by the page). */
export interface Selection {
  selected: ReadonlySet<number>
  /** Every slot taken: the unchecked boxes are disabled. */
  full: boolean
  onToggle: (id: number) => void
  /** The header box: the shown rows. */
  header: { checked: boolean; indeterminate: boolean; onToggle: () => void }
}

const LIMIT_TITLE = `Compare takes up to ${MAX_COMPARE} targets`

interface RowProps {
  r: FleetRow
  showSites: boolean
  index: number
  selected: boolean
  disabled: boolean
  onToggle: (id: number) => void
}

const Row = memo(function Row({ r, showSites, index, selected, disabled, onToggle }: RowProps) {
  return (
    <tr data-target-id={r.id} data-status={r.status} aria-rowindex={index + 2} className={selected ? 'selected' : undefined}>
      <td className="col-select">
        <input type="checkbox" aria-label={`Select ${r.name}`} checked={selected} disabled={disabled} title={disabled ? LIMIT_TITLE : undefined} onChange={() => onToggle(r.id)} />
      </td>
      <td className="col-status">
        <FleetStateCell state={r.status} since={r.since} />
      </td>
      <td className="col-name">
        <Link to={`/target/${r.id}`}>{r.name}</Link>
      </td>
      <td className="col-ip mono">{r.ip}</td>
      <td className="col-num mono" title={r.lastTime ? `at ${formatTime(r.lastTime)}` : undefined}>
        {r.lastTime && r.lastRttMs === null ? <span className="loss-text">lost</span> : formatMs(r.lastRttMs)}
      </td>
      <td className={`col-num mono${r.lossPercent ? ' loss-text' : ''}`}>{formatPercent(r.lossPercent, 2)}</td>
      <td className="col-num mono">{formatMs(r.p95Ms)}</td>
      <td className="col-spark">
        <Sparkline values={r.spark} loss={r.sparkLoss} />
      </td>
      <td className="col-tags">
        {r.tags.map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        ))}
      </td>
      {showSites && <td className="col-sites">{r.sites ? r.sites.join(', ') : <span className="muted">all</span>}</td>}
      <td className="col-num col-interval">{formatInterval(r.interval)}</td>
    </tr>
  )
})

function HeaderCheckbox({ header }: { header: Selection['header'] }) {
  const ref = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = header.indeterminate
  }, [header.indeterminate])
  return (
    <input
      ref={ref}
      type="checkbox"
      aria-label={`Select the shown rows (up to ${MAX_COMPARE})`}
      title={`Select the shown rows, up to ${MAX_COMPARE}; again to clear them`}
      checked={header.checked}
      onChange={header.onToggle}
    />
  )
}

interface TableProps {
  rows: FleetRow[]
  sort: Sort
  onSort: (key: SortKey) => void
  selection: Selection
  /** Show the Sites column (several sites, or a target that lists its own). */
  showSites: boolean
}

export function FleetTable({ rows, sort, onSort, selection, showSites }: TableProps) {
  const columns = showSites ? COLUMNS : ONE_SITE_COLUMNS
  const scroller = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(800)

  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    const ro = new ResizeObserver(() => setHeight(el.clientHeight))
    ro.observe(el)
    setHeight(el.clientHeight)
    return () => ro.disconnect()
  }, [])

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN)

  return (
    <div className="table-scroll" ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <table className="fleet-table" aria-label="Targets" aria-rowcount={rows.length + 1}>
        <thead>
          <tr aria-rowindex={1}>
            <th className="col-select" scope="col">
              <HeaderCheckbox header={selection.header} />
            </th>
            {columns.map((c) => (
              <th key={c.label} className={c.className} scope="col" aria-sort={c.key && sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                {c.key ? (
                  <button type="button" className="sort" onClick={() => onSort(c.key!)}>
                    {c.label}
                    <span aria-hidden="true" className="sort-mark">
                      {sort.key === c.key ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && (
            <tr aria-hidden="true" className="spacer" style={{ height: first * ROW_HEIGHT }}>
              <td colSpan={columns.length + 1} />
            </tr>
          )}
          {rows.slice(first, last).map((r, i) => (
            <Row
              key={r.id}
              r={r}
              showSites={showSites}
              index={first + i}
              selected={selection.selected.has(r.id)}
              disabled={selection.full && !selection.selected.has(r.id)}
              onToggle={selection.onToggle}
            />
          ))}
          {last < rows.length && (
            <tr aria-hidden="true" className="spacer" style={{ height: (rows.length - last) * ROW_HEIGHT }}>
              <td colSpan={columns.length + 1} />
            </tr>
          )}
        </tbody>
      </table>
      {rows.length === 0 && <p className="empty">No targets match.</p>}
    </div>
  )
}
