import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { AdminOnly } from '../../../components/admin-only'
import { ErrorMessage } from '../../../components/field'
import { StateLegend } from '../../../components/state-legend'
import { useLiveEvent } from '../../../lib/live'
import { Link, navigate, updateSearch, useSearchParams } from '../../../lib/router'
import type { LiveFigures } from '../../../lib/status'
import '../../../styles/compare.css'
import { MAX_COMPARE, compareHref, selectionFromSearch, selectionToSearch } from '../../compare/compare-url'
import { useSites } from '../../sites/api/sites'
import { SiteSelect, siteNameList } from '../../sites/components/site-select'
import { useFleetSummary, useTargets } from '../api/fleet'
import { type FleetFilter, type SortKey, buildRows, countByStatus, filterRows, sortRows } from '../fleet-model'
import { STATUSES, filterFromSearch, filterToSearch, sortFromSearch, sortToSearch } from '../fleet-url'
import { FleetTable, type Selection } from './fleet-table'

/** Performance marks read by the benchmark (scripts/bench/fleet.ts, which names them too). */
const FLEET_INTERACTIVE_MARK = 'pingscope:fleet-interactive'
const FLEET_READY_MARK = 'pingscope:fleet-ready'

function markOnce(name: string, targets: number) {
  const marked = () => performance.getEntriesByName(name).length > 0
  if (marked()) return
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (!marked()) performance.mark(name, { detail: { targets } })
    }),
  )
}

const changeSelection = (next: (ids: number[]) => number[]) =>
  updateSearch(selectionToSearch(next(selectionFromSearch(new URLSearchParams(location.search)))), { replace: true })

export function FleetPage() {
  const targets = useTargets()
  const summary = useFleetSummary()
  const live = useRef(new Map<number, LiveFigures>())
  const [liveVersion, setLiveVersion] = useState(0)
  // Filters and sort live in the URL (fleet-url.ts). Replaced, not pushed: Back leaves the fleet view
  // as it was left instead of stepping through every keystroke and click.
  const params = useSearchParams()
  const filter = useMemo(() => filterFromSearch(params), [params])
  const sort = useMemo(() => sortFromSearch(params), [params])
  // From the address bar rather than this render's copy, so two changes before a re-render both count.
  const setFilter = (change: (f: FleetFilter) => FleetFilter) =>
    updateSearch(filterToSearch(change(filterFromSearch(new URLSearchParams(location.search)))), { replace: true })

  useLiveEvent((e) => {
    if (e.type !== 'samples') return
    for (const s of e.items) live.current.set(s.targetId, { rttMs: s.rttMs, loss: s.loss, time: s.time })
    setLiveVersion((v) => v + 1)
  })
  // A refreshed list is newer than what the stream said about paused or deleted targets.
  useEffect(() => {
    for (const t of targets.data ?? []) if (!t.is_active) live.current.delete(t.id)
  }, [targets.data])

  const rows = useMemo(
    () => buildRows(targets.data ?? [], summary.data, live.current),
    // liveVersion stands for the mutable live map
    [targets.data, summary.data, liveVersion],
  )
  const counts = useMemo(() => countByStatus(rows), [rows])
  const tags = useMemo(() => [...new Set((targets.data ?? []).flatMap((t) => t.tags))].sort(), [targets.data])
  // Sites: those with probes on record and those targets name (a site may be named before its probe runs).
  const sites = useSites()
  const siteNames = useMemo(
    () => siteNameList((sites.data ?? []).map((x) => x.name), (targets.data ?? []).flatMap((t) => t.sites ?? []), filter.site ? [filter.site] : []),
    [sites.data, targets.data, filter.site],
  )
  const showSites = siteNames.length > 1 || rows.some((r) => r.sites !== null)
  const shown = useMemo(() => sortRows(filterRows(rows, filter), sort), [rows, filter, sort])

  // Marks for the benchmark: the table is usable once the targets are painted; complete once their
  // last-hour figures are painted too. Marked after the paint, not merely after React's commit.
  useEffect(() => {
    if (targets.isSuccess) markOnce(FLEET_INTERACTIVE_MARK, rows.length)
    if (targets.isSuccess && !summary.isPending) markOnce(FLEET_READY_MARK, rows.length)
  }, [targets.isSuccess, summary.isPending, rows.length])

  // The rows picked to compare (?sel=3,17,42), replaced in place like the filters: Back from the
  // compare page finds them still picked. Read from the address bar, so the toggle stays one function.
  const selected = useMemo(() => selectionFromSearch(params), [params])
  const onToggle = useCallback(
    (id: number) => changeSelection((ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : ids.length < MAX_COMPARE ? [...ids, id] : ids)),
    [],
  )
  const selection = useMemo<Selection>(() => {
    const set = new Set(selected)
    const shownSelected = shown.filter((r) => set.has(r.id)).length
    return {
      selected: set,
      full: set.size >= MAX_COMPARE,
      onToggle,
      header: {
        checked: shown.length > 0 && shownSelected === shown.length,
        indeterminate: shownSelected > 0 && shownSelected < shown.length,
        // Adds the shown rows, in their order, until the limit; once some are in and no more fit
        // (or all are), takes the shown ones out again.
        onToggle: () =>
          changeSelection((ids) => {
            const shownIds = shown.map((r) => r.id)
            const anyShown = ids.some((id) => shownIds.includes(id))
            const room = shownIds.filter((id) => !ids.includes(id)).length > 0 && ids.length < MAX_COMPARE
            if (anyShown && !room) return ids.filter((id) => !shownIds.includes(id))
            return [...ids, ...shownIds.filter((id) => !ids.includes(id))].slice(0, Math.max(MAX_COMPARE, ids.length))
          }),
      },
    }
  }, [selected, shown, onToggle])
  const hiddenSelected = selected.filter((id) => !shown.some((r) => r.id === id)).length
  const tooMany = selected.length > MAX_COMPARE

  const onSort = (key: SortKey) =>
    updateSearch({ sort: sortToSearch(sort.key === key ? { key, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }) }, { replace: true })

  return (
    <section className="fleet" aria-labelledby="fleet-title">
      <div className="page-head">
        <h1 id="fleet-title">Fleet</h1>
        <p className="muted" aria-live="polite">
          {targets.data ? `${shown.length} of ${rows.length} targets` : 'Loading targets…'}
        </p>
        <AdminOnly>
          <Link to="/add" className="button primary">
            Add targets
          </Link>
        </AdminOnly>
      </div>
      <div className="status-chips" role="group" aria-label="Filter by status">
        <button type="button" aria-pressed={filter.status === 'all'} onClick={() => setFilter((f) => ({ ...f, status: 'all' }))}>
          all <b>{rows.length}</b>
        </button>
        {STATUSES.map((s) => (
          <button key={s} type="button" className={`chip-${s}`} aria-pressed={filter.status === s} onClick={() => setFilter((f) => ({ ...f, status: f.status === s ? 'all' : s }))}>
            {s} <b>{counts[s]}</b>
          </button>
        ))}
      </div>
      <div className="filters">
        <label>
          <span>Search</span>
          <input type="search" placeholder="name, address, tag, notes" value={filter.q} onChange={(e) => setFilter((f) => ({ ...f, q: e.target.value }))} />
        </label>
        <label>
          <span>Tag</span>
          <select value={filter.tag} onChange={(e) => setFilter((f) => ({ ...f, tag: e.target.value }))}>
            <option value="">any tag</option>
            {tags.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        {showSites && <SiteSelect names={siteNames} value={filter.site} allLabel="any site" onChange={(site) => setFilter((f) => ({ ...f, site }))} />}
        <StateLegend />
      </div>
      <div className="selection-bar" role="group" aria-label="Selection">
        <button type="button" className="primary" disabled={selected.length === 0 || tooMany} onClick={() => navigate(compareHref(selected))}>
          Compare ({selected.length})
        </button>
        <span className={tooMany ? 'error-text' : 'muted'} data-testid="selection-note" aria-live="polite">
          {tooMany
            ? `Compare takes up to ${MAX_COMPARE} targets: ${selected.length} are selected.`
            : selected.length === 0
              ? `Tick up to ${MAX_COMPARE} targets to compare them on one chart.`
              : selected.length >= MAX_COMPARE
                ? `${MAX_COMPARE} selected, the most Compare takes.`
                : `${selected.length} selected.`}
          {hiddenSelected > 0 ? ` ${hiddenSelected} of them not shown by the filters.` : ''}
        </span>
        {selected.length > 0 && (
          <button type="button" onClick={() => updateSearch(selectionToSearch([]), { replace: true })}>
            Clear selection
          </button>
        )}
      </div>
      <ErrorMessage error={targets.error ?? summary.error} />
      <FleetTable rows={shown} sort={sort} onSort={onSort} selection={selection} showSites={showSites} />
    </section>
  )
}
