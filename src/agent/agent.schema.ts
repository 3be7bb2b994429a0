import { z } from 'zod'
import { MAX_ID, isoTime, safeText } from '../lib/input.schema.js'

// The remote probe agent's wire format (POST /probe/heartbeat, POST /probe/samples), shared by the
// routes (validation, OpenAPI) and the agent (src/agent/client.ts builds these bodies).

/** PROBE_NAME's rule (src/config.ts): the agent's row in `probes`. */
export const PROBE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/

/** Limits of POST /probe/samples: the gzip'd body, the JSON inside it, and rows per batch. */
export const SAMPLES_MAX_COMPRESSED_BYTES = 8 * 1024 * 1024
export const SAMPLES_MAX_JSON_BYTES = 32 * 1024 * 1024
export const SAMPLES_MAX_ROWS = 50_000
export const SAMPLES_MAX_OUTAGES = 10_000

const id = z.number().int().min(1).max(MAX_ID)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const micros = z.number().int().min(0).max(MAX_ID)

/** A probe's tenure in `probes` (probes.repo.ts ProbeRegistration): handed out by the server, sent back. */
const session = z.object({
  id,
  // started_at as PostgreSQL prints it ("2026-12-01 10:00:00.123456+00"), compared as text
  started_at: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/, 'must be the started_at the server handed out'),
})

export const heartbeatBody = z.object({
  name: z.string().regex(PROBE_NAME_RE, 'must be 1-100 letters, digits and . _ : @ - (starting with a letter or digit)'),
  version: safeText().min(1).max(64),
  hostname: safeText().min(1).max(255),
  pid: z.number().int().min(0).max(MAX_ID).default(0),
  /** The tenure the previous answer handed out (null: first heartbeat, or state lost). */
  session: session.nullable().default(null),
  /** Targets the agent is probing right now: their leases are renewed; leases it no longer lists are released. */
  held: z.array(id).max(100_000).default([]),
  buffered_rows: count.default(0),
  dropped_rows: count.default(0),
  last_error: safeText().max(1000).nullable().default(null),
})

export const agentTarget = z.object({
  id,
  address: z.string(),
  interval_s: z.number().int(),
  packets: z.number().int(),
  timeout_ms: z.number().int(),
  /** Newly leased: how long ago (server clock, up to the answer) the previous holder was done; null: nobody held it. */
  done_at_ms_ago: z.number().nullable(),
  /** Lost rounds of the target's open outage seen from this site (null: none open). */
  open_outage_lost_rounds: z.number().int().nullable(),
})

export const heartbeatOut = z.object({
  session,
  site: z.string(),
  heartbeat_ms: z.number().int(),
  /** Live probes of the site (this agent included): alone, it probes on when it cannot heartbeat. */
  live_probes: z.number().int(),
  share: z.number().int(),
  /** Every target the agent holds a lease on now: what it probes until the next answer. */
  targets: z.array(agentTarget),
  /** Held targets to give up: stop probing them, then leave them out of `held` (that releases them). */
  release: z.array(z.number().int()),
})

export const sampleRow = z.object({
  time: isoTime,
  target_id: id,
  seq: z.number().int().min(0).max(32767),
  rtt_us: micros.nullable(),
  ttl: z.number().int().min(0).max(255).nullable(),
  jitter_us: micros.nullable(),
  status: z.number().int().min(0).max(3),
  reporter: z.union([z.ipv4(), z.ipv6()]).nullable(),
})

export const outageTransition = z.discriminatedUnion('type', [
  z.object({ type: z.literal('open'), target_id: id, started_at: isoTime, lost_rounds: z.number().int().min(1).max(MAX_ID), cause: safeText().max(500) }),
  z.object({ type: z.literal('close'), target_id: id, ended_at: isoTime, lost_rounds: z.number().int().min(0).max(MAX_ID) }),
])

export const samplesBody = z.object({
  /** Given by the agent before its first attempt: a batch posted again is recognised (7 days). */
  batch_id: z.uuid(),
  samples: z.array(sampleRow).max(SAMPLES_MAX_ROWS),
  /** Outage transitions measured with these samples, in order. */
  outages: z.array(outageTransition).max(SAMPLES_MAX_OUTAGES).default([]),
})

export const samplesOut = z.object({
  /** The batch id was stored before: nothing was applied again. */
  duplicate: z.boolean(),
  rows: z.number().int(),
  /** Samples that were new (a sample already stored, whatever batch brought it, is not stored again). */
  stored: z.number().int(),
  /** Samples of target ids that do not exist (deleted meanwhile, or never): dropped. */
  unknown_targets: z.number().int(),
  /** Samples older than the raw retention or more than a day ahead of the server's clock: dropped. */
  out_of_range: z.number().int(),
})

export const leaveBody = z.object({ session })

export type HeartbeatBody = z.infer<typeof heartbeatBody>
export type HeartbeatOut = z.infer<typeof heartbeatOut>
export type AgentTarget = z.infer<typeof agentTarget>
export type SamplesBody = z.infer<typeof samplesBody>
export type SamplesOut = z.infer<typeof samplesOut>
export type OutageTransition = z.input<typeof outageTransition>
export type SampleRowJson = z.input<typeof sampleRow>
