import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AlertingStatus } from '../alerts/alerting.js'
import { type AlertFigures, alertFigures } from '../alerts/status.repo.js'
import type { JobRunner } from '../db/maintenance/jobs.js'
import type { Sql } from '../db/open.js'
import type { LiveHub } from '../live/hub.js'
import type { LeaseStatus } from '../probe/leases.js'
import { type ProbeRow, listProbes } from '../probe/probes.repo.js'
import type { SchedulerStats } from '../probe/scheduler.js'
import type { ProbeStatus } from '../probe/status.js'
import type { WriterStats } from '../probe/writer.js'
import { type MetricsTarget, listMetricsTargets } from './metrics.repo.js'

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

/**
 * Prometheus text exposition (version 0.0.4) of the probe engine, its leases, the writer, the jobs, the
 * probe fleet and every target.
 */
export function renderMetrics(p: {
  scheduler: SchedulerStats | null
  leases: LeaseStatus | null
  writer: WriterStats
  jobs: ReturnType<JobRunner['status']>
  probes: ProbeRow[]
  targets: MetricsTarget[]
  live: LiveHub
  alerts?: { status: AlertingStatus | null; figures: AlertFigures }
}): string {
  const out: string[] = []
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number | null][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, v] of samples) if (v !== null && Number.isFinite(v)) out.push(`${name}${labels} ${v}`)
  }
  const s = p.scheduler
  metric('pingscope_probe_up', 'gauge', 'Whether the probe scheduler runs (1) or not (0).', [['', s ? 1 : 0]])
  if (s) {
    metric('pingscope_probe_targets', 'gauge', 'Targets being probed.', [['', s.targets]])
    metric('pingscope_probe_rounds_total', 'counter', 'Probe rounds completed.', [['', s.rounds]])
    metric('pingscope_probe_echoes_total', 'counter', 'ICMP echo requests sent.', [['', s.echoes]])
    metric('pingscope_probe_late_rounds_total', 'counter', 'Rounds started later than PROBE_LATE_MS after their slot.', [['', s.lateRounds]])
    metric('pingscope_probe_missed_rounds_total', 'counter', 'Slots that passed entirely without a round.', [['', s.missedRounds]])
    metric('pingscope_probe_in_flight_echoes', 'gauge', 'Echo requests awaiting a reply.', [['', s.inFlightEchoes]])
    metric('pingscope_probe_echoes_per_second', 'gauge', 'Echoes per second over the last 10 s.', [['', s.echoesPerSecond]])
    metric('pingscope_probe_lag_seconds', 'gauge', 'Scheduling lag over the last 20,000 rounds.', [
      ['{quantile="0.5"}', s.lagP50Ms === null ? null : s.lagP50Ms / 1000],
      ['{quantile="0.99"}', s.lagP99Ms === null ? null : s.lagP99Ms / 1000],
      ['{quantile="1"}', s.lagMaxMs === null ? null : s.lagMaxMs / 1000],
    ])
  }
  const l = p.leases
  if (l) {
    metric('pingscope_probe_leased_targets', 'gauge', 'Targets this process holds a lease on.', [['', l.held]])
    metric('pingscope_probe_lease_share', 'gauge', 'Its fair share: ceil(enabled targets / live probes of its site).', [['', l.share]])
    metric('pingscope_probe_leases_claimed_total', 'counter', 'Leases claimed (free, released or expired).', [['', l.claimed]])
    metric('pingscope_probe_leases_released_total', 'counter', 'Leases given back to other probes of the site.', [['', l.released]])
    metric('pingscope_probe_leases_expired_total', 'counter', 'Leases given up because they could not be renewed in time.', [['', l.expired]])
  }
  const fleet = p.probes.map((r) => ({ r, labels: `{probe="${esc(r.name)}",site="${esc(r.site)}"}` }))
  metric('pingscope_fleet_probe_up', 'gauge', 'Probe processes on this database: 1 live, 0 stopped or lost (no heartbeat for 3 heartbeats).', fleet.map((f) => [f.labels, f.r.state === 'live' ? 1 : 0]))
  metric('pingscope_fleet_probe_heartbeat_age_seconds', 'gauge', 'Time since the probe\u2019s last heartbeat.', fleet.map((f) => [f.labels, f.r.heartbeatAgeS]))
  metric('pingscope_fleet_probe_assigned_targets', 'gauge', 'Targets leased to the probe.', fleet.map((f) => [f.labels, f.r.assigned]))
  metric('pingscope_fleet_probe_info', 'gauge', 'Where each probe runs (always 1).', fleet.map((f) => [`${f.labels.slice(0, -1)},hostname="${esc(f.r.hostname)}",pid="${f.r.pid}",version="${esc(f.r.version)}"}`, 1]))
  const w = p.writer
  metric('pingscope_writer_buffered_samples', 'gauge', 'Samples waiting to be written.', [['', w.buffered]])
  metric('pingscope_writer_written_samples_total', 'counter', 'Samples written to the database.', [['', w.written]])
  metric('pingscope_writer_dropped_samples_total', 'counter', 'Samples given up because the buffer bound was hit.', [['', w.dropped]])
  metric('pingscope_writer_failures_total', 'counter', 'Failed write attempts (retried).', [['', w.failures]])
  metric('pingscope_jobs_runs_total', 'counter', 'Policy job runs by pingscope (embedded mode, or jobs taken over from TimescaleDB).', [['', p.jobs.runs]])
  metric('pingscope_jobs_taken_over', 'gauge', "Policy jobs pingscope runs because TimescaleDB's scheduler failed or stopped them.", [['', p.jobs.takenOver.length]])
  metric('pingscope_jobs_failures_total', 'counter', 'Failed policy job runs.', [['', p.jobs.failures]])
  if (p.alerts) renderAlerts(metric, p.alerts)

  const byId = new Map(p.live.figures().map((f) => [f.targetId, f]))
  const rows = p.targets.map((t) => ({ t, f: byId.get(t.id), labels: `{target_id="${t.id}",address="${esc(t.address)}",name="${esc(t.name ?? '')}"}` }))
  metric('pingscope_target_rtt_seconds', 'gauge', 'Median RTT of the target\u2019s last round.', rows.map((r) => [r.labels, r.f?.rttMs == null ? null : r.f.rttMs / 1000]))
  metric('pingscope_target_loss_ratio', 'gauge', 'Loss of the target\u2019s last round (0..1).', rows.map((r) => [r.labels, r.f ? r.f.loss : null]))
  metric('pingscope_target_echoes_sent_total', 'counter', 'Echoes sent to the target since start.', rows.map((r) => [r.labels, r.f ? r.f.echoesSent : null]))
  metric('pingscope_target_echoes_received_total', 'counter', 'Replies from the target since start.', rows.map((r) => [r.labels, r.f ? r.f.echoesReceived : null]))
  return `${out.join('\n')}\n`
}

type Emit = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number | null][]) => void

function renderAlerts(metric: Emit, a: { status: AlertingStatus | null; figures: AlertFigures }): void {
  const open = Object.entries(a.figures.open).map(([severity, n]): [string, number] => [`{severity="${severity}"}`, n])
  metric('pingscope_alerts_open_incidents', 'gauge', 'Open incidents on this database, by severity.', open)
  metric('pingscope_notifications_queued', 'gauge', 'Notifications waiting to be delivered (all channels).', [['', a.figures.queued]])
  metric('pingscope_notifications_oldest_queued_seconds', 'gauge', 'Age of the oldest notification waiting (absent when none waits).', [['', a.figures.oldestQueuedS]])
  const e = a.status?.evaluator
  if (e) {
    metric('pingscope_alerts_evaluations_total', 'counter', 'Evaluation passes of this process.', [['', e.passes]])
    metric('pingscope_alerts_evaluation_failures_total', 'counter', 'Failed passes and state writes of this process.', [['', e.failures]])
    metric('pingscope_alerts_fired_total', 'counter', 'Incidents this process opened.', [['', e.fired]])
    metric('pingscope_alerts_resolved_total', 'counter', 'Incidents this process closed.', [['', e.resolved]])
    metric('pingscope_alerts_last_pass_seconds', 'gauge', 'Duration of the last evaluation pass.', [['', e.lastPassMs === null ? null : e.lastPassMs / 1000]])
  }
  const s = a.status?.sender
  if (s) {
    metric('pingscope_notifications_delivered_total', 'counter', 'Notification rows this process delivered.', [['', s.delivered]])
    metric('pingscope_notifications_sent_total', 'counter', 'Messages this process sent (a group of rows is one message).', [['', s.notifications]])
    metric('pingscope_notifications_failures_total', 'counter', 'Failed delivery attempts (retried with backoff).', [['', s.failures]])
    metric('pingscope_notifications_given_up_total', 'counter', 'Notification rows given up after the retry limit.', [['', s.givenUp]])
  }
}

export const metricsRoutes: FastifyPluginAsyncZod<{ sql: Sql; live: LiveHub; jobs: JobRunner; probe: () => ProbeStatus; alerts?: () => AlertingStatus | null }> = async (app, opts) => {
  app.get('/metrics', { onRequest: [app.authenticate], schema: { tags: ['health'], summary: 'Prometheus metrics (use an API token as bearer_token)' } }, async (_req, reply) => {
    const [targets, probes, figures] = await Promise.all([listMetricsTargets(opts.sql), listProbes(opts.sql), alertFigures(opts.sql)])
    const probe = opts.probe() as ProbeStatus & { scheduler: SchedulerStats | null; writer: WriterStats }
    const body = renderMetrics({
      scheduler: probe.scheduler,
      leases: probe.leases ?? null,
      writer: probe.writer,
      jobs: opts.jobs.status(),
      probes,
      targets,
      live: opts.live,
      alerts: { status: opts.alerts?.() ?? null, figures },
    })
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(body)
  })
}
