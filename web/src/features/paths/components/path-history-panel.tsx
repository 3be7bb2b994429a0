import { useCallback, useMemo, useState } from 'react'
import { ErrorMessage } from '../../../components/field'
import { formatDateTime } from '../../../lib/format'
import { useSearchParams } from '../../../lib/router'
import { useTimeZone } from '../../../lib/time-zone'
import { RANGES } from '../../targets/api/targets'
import { rangeFromSearch } from '../../targets/chart/chart-url'
import { HISTORY_LIMIT, type PathRun, usePathHistory, useSchedule } from '../api/paths'
import { hopRows, pathIndex, pathLetter } from '../path-model'
import { HopGrid } from './hop-grid'
import { PathDiff } from './path-diff'
import { PathList } from './path-list'
import { ScheduleControls } from './schedule-controls'

// Path history of a target (MTR-style): its traceroute schedule, the runs of the window the page shows
// (the chart's range or zoom, read from the URL as the page does) hop by hop, the distinct paths, and
// two runs side by side.

type Picked = { a: number | null; b: number | null }

export function PathHistoryPanel({ targetId, isAdmin }: { targetId: number; isAdmin: boolean }) {
  const params = useSearchParams()
  const range = useMemo(() => rangeFromSearch(params), [params])
  const zone = useTimeZone()
  const schedule = useSchedule(targetId)
  const history = usePathHistory(targetId, range, Boolean(schedule.data))
  const [picked, setPicked] = useState<Picked>({ a: null, b: null })

  const data = history.data
  const runs = useMemo(() => data?.runs ?? [], [data])
  const index = useMemo(() => (data ? pathIndex(data) : new Map<string | null, number>()), [data])
  const pathOf = useCallback((r: PathRun) => index.get(r.path_hash), [index])
  const letterOf = useCallback((r: PathRun) => {
    const i = index.get(r.path_hash)
    return i === undefined ? undefined : pathLetter(i)
  }, [index])

  // A click picks A, the next one B; a third starts over.
  const onPick = useCallback((id: number) => setPicked((p) => (p.a === null || p.b !== null ? { a: id, b: null } : p.a === id ? p : { a: p.a, b: id })), [])
  const onCompare = useCallback(
    (id: number) => {
      const i = runs.findIndex((r) => r.id === id)
      setPicked({ a: runs[i - 1]?.id ?? null, b: id })
    },
    [runs],
  )

  const windowLabel = 'key' in range ? `last ${RANGES.find((r) => r.key === range.key)!.label}` : `${formatDateTime(new Date(range.from))} – ${formatDateTime(new Date(range.to))}`
  const changes = runs.filter((r) => r.path_changed).length

  return (
    <section className="card path-history" aria-labelledby={`path-history-title-${targetId}`} data-testid="path-history">
      <div className="card-head">
        <h2 id={`path-history-title-${targetId}`}>Path history</h2>
        <span className="muted">{windowLabel}</span>
      </div>
      {schedule.isPending ? <p className="muted">Loading…</p> : <ScheduleControls targetId={targetId} schedule={schedule.data ?? null} isAdmin={isAdmin} />}
      <ErrorMessage error={schedule.error ?? history.error} />
      {data && runs.length === 0 && <p className="muted">No traceroute runs in this window{schedule.data ? ' yet' : ': turn the schedule on to build a path history'}.</p>}
      {runs.length > 0 && (
        <>
          <p data-testid="path-summary">
            {runs.length} run{runs.length === 1 ? '' : 's'}, {data!.paths.length} path{data!.paths.length === 1 ? '' : 's'}, {changes} change{changes === 1 ? '' : 's'}
            {runs.length >= HISTORY_LIMIT && <span className="muted"> (the newest {HISTORY_LIMIT} of the window)</span>}
          </p>
          <HopGrid runs={runs} rows={hopRows(runs)} pathOf={pathOf} picked={picked} zone={zone} onPick={onPick} onCompare={onCompare} />
          <h3>Paths</h3>
          <PathList paths={data!.paths} />
          <PathDiff targetId={targetId} runs={runs} picked={picked} letterOf={letterOf} onChange={setPicked} />
        </>
      )}
    </section>
  )
}
