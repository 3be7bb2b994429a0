import type { Queryable } from '../db/open.js'
import { listTargetEvents } from '../events/events.repo.js'
import type { EventOut } from '../events/events.schema.js'
import { eventJson } from '../events/events.service.js'
import { requireTarget } from '../targets/targets.service.js'
import { estimateHops } from './hops.js'
import { type LogOut, SAMPLE_STATUSES } from './samples.schema.js'
import { type SampleRow, listNewestSamples } from './samples.repo.js'

// A target's stored history as the API and the CLI's --json show it (404 for an unknown target).

/** The newest `limit` samples, oldest first. */
export async function getTargetLogs(sql: Queryable, targetId: number, limit: number): Promise<LogOut[]> {
  await requireTarget(sql, targetId)
  return (await listNewestSamples(sql, targetId, limit)).map(logJson)
}

/** The newest `limit` events, newest first. */
export async function getTargetEvents(sql: Queryable, targetId: number, limit: number): Promise<EventOut[]> {
  await requireTarget(sql, targetId)
  return (await listTargetEvents(sql, targetId, limit)).map(eventJson)
}

function logJson(s: SampleRow): LogOut {
  return {
    time: s.time.toISOString(),
    latency_ms: s.rttUs === null ? null : s.rttUs / 1000,
    hops: estimateHops(s.ttl),
    packet_loss: s.rttUs === null,
    rtt_us: s.rttUs,
    ttl: s.ttl,
    seq: s.seq,
    status: SAMPLE_STATUSES[s.status] ?? 'error',
  }
}
