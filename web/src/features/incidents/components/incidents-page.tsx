import { useEffect, useRef } from 'react'
import { ErrorMessage } from '../../../components/field'
import { useLiveEvent } from '../../../lib/live'
import { updateSearch, useSearchParams } from '../../../lib/router'
import { HISTORY_PAGE, type IncidentFilter, useIncidentHistory, useOpenIncidents, useRefreshIncidents } from '../api/incidents'
import { SEVERITY_OPTIONS } from '../incident-format'
import { filterFromSearch, filterToSearch, pageFromSearch } from '../incidents-url'
import { IncidentTable } from './incident-table'

// Open incidents first, then (with "all") the closed ones a page at a time. The lists refresh every
// 10 s; an outage opening or closing (live stream) refreshes them sooner, once the evaluator has had
// a moment to judge it. Filters and the page live in the URL.

/** Refreshes the incidents a little after each outage event: the evaluator judges on its own clock. */
function useOutageRefresh() {
  const refresh = useRefreshIncidents()
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)
  useLiveEvent((e) => {
    if (e.type !== 'outage') return
    clearTimeout(timer.current)
    timer.current = setTimeout(refresh, 2000)
  })
  useEffect(() => () => clearTimeout(timer.current), [])
}

function Filters({ filter }: { filter: IncidentFilter }) {
  const set = (f: Partial<IncidentFilter>) => updateSearch(filterToSearch(f), { replace: true })
  return (
    <div className="filters" role="group" aria-label="Filters">
      <label>
        Show
        <select value={filter.state} onChange={(e) => set({ state: e.target.value as IncidentFilter['state'] })}>
          <option value="open">Open</option>
          <option value="all">Open and history</option>
        </select>
      </label>
      <label>
        Severity
        <select value={filter.severity} onChange={(e) => set({ severity: e.target.value as IncidentFilter['severity'] })}>
          <option value="">any</option>
          {SEVERITY_OPTIONS.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={filter.unacknowledged} onChange={(e) => set({ unacknowledged: e.target.checked })} /> Unacknowledged only
      </label>
    </div>
  )
}

function History({ filter, page }: { filter: IncidentFilter; page: number }) {
  const history = useIncidentHistory(filter, page)
  const total = history.data?.total ?? 0
  const first = page * HISTORY_PAGE
  const go = (p: number) => updateSearch({ page: p > 0 ? String(p + 1) : null })
  return (
    <section className="card" aria-labelledby="history-title">
      <div className="card-head">
        <h2 id="history-title">History</h2>
        <span className="muted" data-testid="history-count">
          {total === 0 ? 'none' : `${first + 1}–${Math.min(first + HISTORY_PAGE, total)} of ${total}`}
        </span>
      </div>
      <ErrorMessage error={history.error} />
      {history.data && history.data.items.length > 0 && <IncidentTable items={history.data.items} label="Closed incidents" />}
      {total > HISTORY_PAGE && (
        <nav className="pager" aria-label="History pages">
          <button type="button" disabled={page === 0} onClick={() => go(page - 1)}>
            Newer
          </button>
          <span>
            page {page + 1} of {Math.ceil(total / HISTORY_PAGE)}
          </span>
          <button type="button" disabled={first + HISTORY_PAGE >= total} onClick={() => go(page + 1)}>
            Older
          </button>
        </nav>
      )}
    </section>
  )
}

export function IncidentsPage() {
  const params = useSearchParams()
  const filter = filterFromSearch(params)
  const open = useOpenIncidents(filter)
  useOutageRefresh()
  return (
    <section className="page incidents-page" aria-labelledby="incidents-title">
      <div className="page-head">
        <h1 id="incidents-title">Incidents</h1>
      </div>
      <Filters filter={filter} />
      <section className="card" aria-labelledby="open-title">
        <div className="card-head">
          <h2 id="open-title">Open</h2>
          <span className="muted" data-testid="open-count">
            {open.data ? `${open.data.total} open` : '…'}
          </span>
        </div>
        <ErrorMessage error={open.error} />
        {open.data && open.data.items.length === 0 && <p className="empty">No open incidents{filter.severity || filter.unacknowledged ? ' match the filters' : ''}.</p>}
        {open.data && open.data.items.length > 0 && <IncidentTable items={open.data.items} label="Open incidents" />}
      </section>
      {filter.state === 'all' && <History filter={filter} page={pageFromSearch(params)} />}
    </section>
  )
}
