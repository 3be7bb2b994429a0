import { z } from 'zod'
import { isoTime, rowId } from '../lib/input.schema.js'

// Field names follow the predecessor's TracerouteResponse (target_id, target_ip, started_at, finished_at,
// duration_ms, hops[{hop, host, ip, rtt_ms, is_timeout, raw}]) plus ours (id, max_hops, hop_count, reached,
// path_changed).

export const tracerouteRunQuery = z.object({
  max_hops: z.coerce.number().int().min(1).max(64).default(20),
  timeout: z.coerce.number().min(1).max(120).default(25).describe('seconds for the whole run; the process is killed after it'),
})

export const tracerouteHistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export const tracerouteHopOut = z.object({
  hop: z.number().int(),
  host: z.string().nullable(),
  ip: z.string().nullable(),
  rtt_ms: z.number().nullable().describe('round trip of the first answered probe'),
  is_timeout: z.boolean(),
  sent: z.number().int().describe('probes sent to the hop (1 for a run on demand; a schedule\'s `queries`)'),
  rtts_ms: z.array(z.number()).describe('round trips of the answered probes'),
  loss_pct: z.number().describe('unanswered probes of the hop, %'),
  rtt_avg_ms: z.number().nullable().describe('mean of rtts_ms'),
  raw: z.string(),
})
export type TracerouteHopOut = z.infer<typeof tracerouteHopOut>

export const tracerouteOut = z.object({
  id: z.number().int(),
  target_id: z.number().int(),
  target_ip: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  max_hops: z.number().int(),
  hop_count: z.number().int().describe('hops to the target, or to the last hop printed when it was not reached'),
  reached: z.boolean(),
  path_changed: z.boolean().describe("the answering hop addresses differ from the target's previous run"),
  hops: z.array(tracerouteHopOut),
})
export type TracerouteOut = z.infer<typeof tracerouteOut>

// ---- schedules and path history (MTR-style) ----

export const scheduleBody = z.object({
  interval_s: z.number().int().min(60).max(86400).describe('seconds between runs'),
  max_hops: z.number().int().min(1).max(64).default(30),
  queries: z.number().int().min(1).max(10).default(3).describe('probes per hop: per-hop loss needs more than 1'),
})
export type ScheduleBody = z.infer<typeof scheduleBody>

export const scheduleOut = z.object({
  target_id: z.number().int(),
  interval_s: z.number().int(),
  max_hops: z.number().int(),
  queries: z.number().int(),
  next_run_at: z.string(),
  last_run_at: z.string().nullable(),
  last_error: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
})
export type ScheduleOut = z.infer<typeof scheduleOut>

export const pathHistoryQuery = z.object({
  from: isoTime.optional().describe('default: 24 h before `to`'),
  to: isoTime.optional().describe('exclusive; default: now'),
  limit: z.coerce.number().int().min(1).max(2000).default(500).describe('the newest runs of the window, at most'),
})

const pathHopOut = z.object({
  hop: z.number().int(),
  ip: z.string().nullable(),
  sent: z.number().int(),
  loss_pct: z.number(),
  rtt_avg_ms: z.number().nullable(),
})

export const pathHistoryOut = z.object({
  target_id: z.number().int(),
  from: z.string(),
  to: z.string(),
  runs: z.array(
    z.object({
      id: z.number().int(),
      started_at: z.string(),
      reached: z.boolean(),
      hop_count: z.number().int(),
      path_hash: z.string().nullable(),
      path_changed: z.boolean(),
      hops: z.array(pathHopOut),
    }),
  ),
  paths: z
    .array(
      z.object({
        path_hash: z.string().nullable(),
        hops: z.array(z.string().nullable()),
        runs: z.number().int(),
        first_seen: z.string(),
        last_seen: z.string(),
      }),
    )
    .describe('each distinct path of the window, in the order first seen'),
})
export type PathHistoryOut = z.infer<typeof pathHistoryOut>

export const pathDiffQuery = z.object({ a: rowId.describe('a traceroute id'), b: rowId.describe('another traceroute id of the same target') })

const side = z.object({ ip: z.string().nullable(), loss_pct: z.number().nullable(), rtt_avg_ms: z.number().nullable() })

export const pathDiffOut = z.object({
  a: z.object({ id: z.number().int(), started_at: z.string(), path_hash: z.string().nullable(), reached: z.boolean() }),
  b: z.object({ id: z.number().int(), started_at: z.string(), path_hash: z.string().nullable(), reached: z.boolean() }),
  same_path: z.boolean(),
  hops: z.array(z.object({ hop: z.number().int(), a: side, b: side, changed: z.boolean().describe('the answering address differs') })),
})
export type PathDiffOut = z.infer<typeof pathDiffOut>
