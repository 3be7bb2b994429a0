import { useMemo, useState } from 'react'
import { ConfirmDialog, FormDialog } from '../../../components/confirm-dialog'
import { ErrorMessage } from '../../../components/field'
import { TargetStateLine } from '../../../components/target-state'
import { ApiError } from '../../../lib/api-client'
import { formatInterval, formatMs, formatTime } from '../../../lib/format'
import { useLiveEvent } from '../../../lib/live'
import { Link, navigate, updateSearch, useSearchParams } from '../../../lib/router'
import type { LiveFigures } from '../../../lib/status'
import { useSites } from '../../sites/api/sites'
import { SiteSelect, siteNameList } from '../../sites/components/site-select'
import { exportCsv, useInsights, useSiteInsights, useTarget, useTargetAction, useTraceroutes, useUpdateTarget } from '../api/targets'
import { logFromSearch, logToSearch, rangeFromSearch, rangeToSearch, siteFromSearch, siteToSearch } from '../chart/chart-url'
import { RangeBar } from '../chart/range-bar'
import { EventsList } from './events-list'
import { ResumeButton } from './resume-button'
import { LatencyChart } from './latency-chart'
import { SamplesTable } from './samples-table'
import { SiteBreakdown } from './site-breakdown'
import { StatCards } from './stat-cards'
import { TargetForm } from './target-form'
import { TraceroutePanel } from './traceroute-panel'
import { PathHistoryPanel } from '../../paths/components/path-history-panel'

export function TargetPage({ id, isAdmin }: { id: number; isAdmin: boolean }) {
  const [deleting, setDeleting] = useState(false)
  // While a delete is asked for or under way, the target's own queries stand still: the live stream's
  // refresh would otherwise read a target that is gone (404) before the page navigates away.
  const target = useTarget(id, !deleting)
  // Range, zoom and scale live in the URL (chart/chart-url.ts): a range or zoom is a history entry, so
  // Back undoes a zoom; the scale is replaced in place.
  const params = useSearchParams()
  const range = useMemo(() => rangeFromSearch(params), [params])
  const log = logFromSearch(params)
  const setRange = (r: Parameters<typeof rangeToSearch>[0]) => updateSearch(rangeToSearch(r))
  // ?site=: what one site measured; otherwise all sites combined, with a line and a row per site.
  const site = siteFromSearch(params)
  const setSite = (s: string | null) => updateSearch(siteToSearch(s))
  const insights = useInsights(id, range, site)
  const perSite = useMemo(() => (site === null && insights.data && insights.data.sites.length > 1 ? insights.data.sites.map((s) => s.site) : []), [site, insights.data])
  const siteInsights = useSiteInsights(id, range, perSite)
  const sites = useSites()
  const traceroutes = useTraceroutes(id)
  const action = useTargetAction(id)
  const update = useUpdateTarget(id)
  const [editing, setEditing] = useState(false)
  const [live, setLive] = useState<LiveFigures | undefined>()
  const [exportMsg, setExportMsg] = useState<{ ok: boolean; text: string } | null>(null)

  useLiveEvent((e) => {
    if (e.type !== 'samples') return
    const s = e.items.find((x) => x.targetId === id)
    if (s) setLive({ rttMs: s.rttMs, loss: s.loss, time: s.time })
  })

  if (target.error instanceof ApiError && target.error.status === 404) {
    return (
      <section className="page">
        <h1>Target not found</h1>
        <p>
          It may have been deleted. <Link to="/">Back to the fleet</Link>
        </p>
      </section>
    )
  }
  const t = target.data
  if (!t) return <p className="muted">{target.error ? <ErrorMessage error={target.error} /> : 'Loading…'}</p>

  // The sites that probe this target (its own list, or every site known), and the one asked for.
  const siteChoices = siteNameList(t.sites ?? sites.data?.map((x) => x.name) ?? [], site ? [site] : [])
  const lastRtt = live && t.is_active ? live.rttMs : t.last_sample?.latency_ms
  const lastTime = live && t.is_active ? live.time : t.last_sample?.time

  async function doExport() {
    setExportMsg(null)
    try {
      const w = insights.data
      const r = await exportCsv(id, w?.window_start, w?.window_end, site)
      setExportMsg({ ok: true, text: `Saved ${r.filename} (${Math.max(1, Math.round(r.bytes / 1024))} KB)` })
    } catch (err) {
      setExportMsg({ ok: false, text: (err as Error).message })
    }
  }

  return (
    <section className="target-page" aria-labelledby="target-title">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Fleet</Link> / <span>{t.name ?? t.ip}</span>
      </nav>
      <div className="page-head">
        <h1 id="target-title">{t.name ?? t.ip}</h1>
        <TargetStateLine target={t} />
        <span className="mono">{t.ip}</span>
        <span className="muted">
          every {formatInterval(t.frequency)}, {t.packets} echo{t.packets > 1 ? 'es' : ''}, last {formatMs(lastRtt)} {lastTime ? `at ${formatTime(lastTime)}` : ''}
        </span>
        {t.tags.map((g) => (
          <span key={g} className="tag">
            {g}
          </span>
        ))}
        <span className="muted" data-testid="target-sites">
          {t.sites ? `probed from ${t.sites.join(', ')}` : 'probed from every site'}
        </span>
      </div>
      {t.url && (
        <p>
          <a href={t.url} target="_blank" rel="noreferrer noopener">
            {t.url}
          </a>
        </p>
      )}
      {t.notes && <p className="notes">{t.notes}</p>}

      <div className="toolbar" role="toolbar" aria-label="Target actions">
        {isAdmin && (
          <>
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
            {t.is_active ? (
              <button type="button" onClick={() => action.mutate('pause')} disabled={action.isPending}>
                Pause
              </button>
            ) : (
              <ResumeButton ip={t.ip} name={t.name ?? t.ip} busy={action.isPending} onResume={() => action.mutate('resume')} />
            )}
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        )}
        <button type="button" onClick={doExport}>
          Export CSV
        </button>
        {exportMsg && (
          <span role="status" className={exportMsg.ok ? 'muted' : 'error-text'}>
            {exportMsg.text}
          </span>
        )}
      </div>
      <ErrorMessage error={action.error} />

      <RangeBar range={range} onRange={setRange}>
        {insights.data && (
          <span className="muted" data-testid="insights-meta">
            {insights.data.tier === 'raw' ? 'raw samples' : `${insights.data.tier} rollups`}, {formatInterval(insights.data.bucket_seconds)} buckets
            {insights.isFetching ? ' · updating…' : ''}
          </span>
        )}
        {siteChoices.length > 1 && <SiteSelect className="site-pick" names={siteChoices} value={site ?? ''} allLabel="all sites" onChange={(s) => setSite(s || null)} />}
      </RangeBar>
      <ErrorMessage error={insights.error} />
      {insights.data && (
        <>
          <StatCards i={insights.data} />
          <SiteBreakdown i={insights.data} onPick={setSite} />
          <LatencyChart
            insights={insights.data}
            sites={siteInsights}
            traceroutes={traceroutes.data}
            onZoom={(from, to) => setRange({ from, to })}
            log={log}
            onLogChange={(on) => updateSearch(logToSearch(on), { replace: true })}
          />
        </>
      )}

      <div className="grid-2 panels">
        <TraceroutePanel id={id} canRun={isAdmin} />
        <EventsList id={id} enabled={!deleting} />
      </div>
      <PathHistoryPanel targetId={id} isAdmin={isAdmin} />
      <SamplesTable id={id} site={site} />

      <FormDialog open={editing} title={`Edit ${t.name ?? t.ip}`} onClose={() => setEditing(false)}>
        <TargetForm target={t} submitLabel="Save" onCancel={() => setEditing(false)} onSubmit={async (body) => (await update.mutateAsync(body), setEditing(false))} />
      </FormDialog>
      <ConfirmDialog
        open={deleting}
        title={`Delete ${t.name ?? t.ip}?`}
        confirmLabel="Delete target"
        danger
        busy={action.isPending}
        onCancel={() => setDeleting(false)}
        onConfirm={() => action.mutate('delete', { onSuccess: () => navigate('/'), onError: () => setDeleting(false) })}
      >
        <p>Its samples, outages and traceroutes are removed. Its events stay as the audit trail. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  )
}
