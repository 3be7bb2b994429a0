import { useEffect, useMemo, useRef, useState } from 'react'
import { ErrorMessage } from '../../../components/field'
import { timeParts } from '../../../lib/format'
import { useLiveEvent } from '../../../lib/live'
import { Link, updateSearch, useSearchParams } from '../../../lib/router'
import { EVENT_GROUPS, GROUP_NAMES, RANGES, type EventRange, type TimelineEventOut, useRefreshTimeline, useTimeline } from '../api/events'
import { type TimelineView, viewFromSearch, viewToSearch } from '../events-url'

// The global events timeline: every target's outages, alert incidents, path changes and changes (who
// did what), newest first, grouped by day in the chosen zone. Filters live in the URL; an outage or a
// change on the live stream refreshes it; older events load a page at a time.

const RANGE_LABELS: Record<EventRange, string> = { '1h': 'Last hour', '24h': 'Last 24 h', '7d': 'Last 7 days', '30d': 'Last 30 days', all: 'All' }

const TYPE_LABELS: Record<string, string> = {
  created: 'added',
  updated: 'changed',
  deleted: 'deleted',
  start: 'resumed',
  stop: 'paused',
  outage_open: 'outage',
  outage_close: 'recovered',
  path_change: 'path change',
  incident_open: 'alert fired',
  incident_resolved: 'alert resolved',
}

/** Refreshes the timeline shortly after an outage or a target change arrives on the live stream. */
function useLiveRefresh() {
  const refresh = useRefreshTimeline()
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)
  useLiveEvent((e) => {
    if (e.type !== 'outage' && e.type !== 'targets') return
    clearTimeout(timer.current)
    // Alert incidents follow an outage on the evaluator's clock: look again a little later.
    timer.current = setTimeout(refresh, 1500)
  })
  useEffect(() => () => clearTimeout(timer.current), [])
}

function Filters({ view }: { view: TimelineView }) {
  const set = (v: Partial<TimelineView>, replace = false) => updateSearch(viewToSearch(v), { replace })
  const [tag, setTag] = useState(view.tag)
  useEffect(() => setTag(view.tag), [view.tag])
  const toggle = (g: (typeof GROUP_NAMES)[number]) => set({ groups: view.groups.includes(g) ? view.groups.filter((x) => x !== g) : [...view.groups, g] })
  return (
    <div className="filters" role="group" aria-label="Filters">
      <label>
        Range
        <select value={view.range} onChange={(e) => set({ range: e.target.value as EventRange })}>
          {(Object.keys(RANGES) as EventRange[]).map((r) => (
            <option key={r} value={r}>
              {RANGE_LABELS[r]}
            </option>
          ))}
        </select>
      </label>
      <div className="chips" role="group" aria-label="Event types">
        {GROUP_NAMES.map((g) => (
          <button key={g} type="button" className="chip" aria-pressed={view.groups.includes(g)} onClick={() => toggle(g)}>
            {EVENT_GROUPS[g].label}
          </button>
        ))}
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          set({ tag: tag.trim() })
        }}
      >
        <label>
          Tag
          <input type="search" value={tag} placeholder="any" maxLength={100} onChange={(e) => setTag(e.target.value)} onBlur={() => tag.trim() !== view.tag && set({ tag: tag.trim() }, true)} />
        </label>
      </form>
    </div>
  )
}

function TargetCell({ e }: { e: TimelineEventOut }) {
  if (e.target_id === null) return <span className="muted">–</span>
  const label = e.target_name ?? e.target_address ?? `#${e.target_id}`
  if (!e.target_exists) return <span title={e.target_address ?? undefined}>{label} <small className="muted">(deleted)</small></span>
  return (
    <Link to={`/target/${e.target_id}`} title={e.target_address ?? undefined}>
      {label}
    </Link>
  )
}

function dayOf(iso: string): string {
  const p = timeParts(new Date(iso))
  return `${p.year}-${p.month}-${p.day}`
}

export function EventsPage() {
  const params = useSearchParams()
  const view = viewFromSearch(params)
  const groupsKey = view.groups.join(',')
  // The window's start is fixed when the view is chosen, so that every page of it lines up.
  const filter = useMemo(() => {
    const span = RANGES[view.range]
    return { range: view.range, groups: groupsKey ? (groupsKey.split(',') as TimelineView['groups']) : [], tag: view.tag, from: span === null ? null : Date.now() - span }
  }, [view.range, groupsKey, view.tag])
  const timeline = useTimeline(filter)
  useLiveRefresh()
  const events = timeline.data?.pages.flat() ?? []
  const days: { day: string; items: TimelineEventOut[] }[] = []
  for (const e of events) {
    const day = dayOf(e.created_at)
    if (days.at(-1)?.day !== day) days.push({ day, items: [] })
    days.at(-1)!.items.push(e)
  }
  const zone = events[0] ? timeParts(new Date(events[0].created_at)).zone : ''
  return (
    <section className="page events-page" aria-labelledby="events-page-title">
      <div className="page-head">
        <h1 id="events-page-title">Events</h1>
        <span className="muted" data-testid="events-count">
          {timeline.data ? `${events.length}${timeline.hasNextPage ? '+' : ''} event${events.length === 1 ? '' : 's'}` : '…'}
        </span>
      </div>
      <Filters view={view} />
      <ErrorMessage error={timeline.error} />
      {timeline.data && events.length === 0 && <p className="empty">No events{view.groups.length || view.tag ? ' match the filters' : ''} in this range.</p>}
      {days.map((d) => (
        <section key={d.day} className="card timeline-day" aria-label={d.day}>
          <h2>
            {d.day} <small className="muted">{zone}</small>
          </h2>
          <ol className="timeline">
            {d.items.map((e) => {
              const p = timeParts(new Date(e.created_at))
              return (
                <li key={e.id} className={`timeline-event event-${e.event_type}`} data-testid="timeline-event" data-type={e.event_type}>
                  <time dateTime={e.created_at}>{`${p.hour}:${p.minute}:${p.second}`}</time>
                  <span className={`event-pill pill-${e.event_type}`}>{TYPE_LABELS[e.event_type] ?? e.event_type.replace(/_/g, ' ')}</span>
                  <span className="timeline-target">
                    <TargetCell e={e} />
                  </span>
                  <span className="event-message">{e.message}</span>
                  {e.actor && <span className="muted event-actor">by {e.actor}</span>}
                </li>
              )
            })}
          </ol>
        </section>
      ))}
      {timeline.hasNextPage && (
        <button type="button" className="load-more" disabled={timeline.isFetchingNextPage} onClick={() => void timeline.fetchNextPage()}>
          {timeline.isFetchingNextPage ? 'Loading…' : 'Older events'}
        </button>
      )}
    </section>
  )
}
