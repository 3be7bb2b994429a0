import type { Queryable } from '../db/open.js'
import { listTargetEvents } from '../events/events.repo.js'
import type { EventOut } from '../events/events.schema.js'
import { eventJson } from '../events/events.service.js'
import { requireTarget } from '../targets/targets.service.js'
import { siteIdOf, siteNames } from '../sites/sites.repo.js'
import type { ExportRange } from './export.js'
import { estimateHops } from './hops.js'
import { type LogOut, SAMPLE_STATUSES } from './samples.schema.js'
import { type SampleRow, listNewestSamples } from './samples.repo.js'

// A target's stored history as the API and the CLI's --json show it (404 for an unknown target).

/** The newest `limit` samples (of one site, or every site), oldest first. */
export async function getTargetLogs(sql: Queryable, targetId: number, limit: number, site?: string): Promise<LogOut[]> {
  await requireTarget(sql, targetId)
  const siteId = site === undefined ? null : await siteIdOf(sql, site)
  const names = await siteNames(sql)
  return (await listNewestSamples(sql, targetId, limit, siteId)).map((s) => logJson(s, names))
}

/** The newest `limit` events, newest first. */
export async function getTargetEvents(sql: Queryable, targetId: number, limit: number): Promise<EventOut[]> {
  await requireTarget(sql, targetId)
  return (await listTargetEvents(sql, targetId, limit)).map(eventJson)
}

/** The CSV export's range for a request: its site checked (422 for an unknown one) and the site names. */
export async function exportRange(sql: Queryable, q: { from?: Date | undefined; to?: Date | undefined; site?: string | undefined }): Promise<ExportRange> {
  const siteId = q.site === undefined ? null : await siteIdOf(sql, q.site)
  return { from: q.from, to: q.to, siteId, siteNames: await siteNames(sql) }
}

function logJson(s: SampleRow, names: Map<number, string>): LogOut {
  return {
    time: s.time.toISOString(),
    latency_ms: s.rttUs === null ? null : s.rttUs / 1000,
    hops: estimateHops(s.ttl),
    packet_loss: s.rttUs === null,
    rtt_us: s.rttUs,
    ttl: s.ttl,
    seq: s.seq,
    status: SAMPLE_STATUSES[s.status] ?? 'error',
    site: names.get(s.siteId) ?? String(s.siteId),
  }
}
