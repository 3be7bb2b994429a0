import { z } from 'zod'

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
  rtt_ms: z.number().nullable(),
  is_timeout: z.boolean(),
  raw: z.string(),
})

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
