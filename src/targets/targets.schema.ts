import { z } from 'zod'
import { rowId, safeText, siteName } from '../lib/input.schema.js'
import { TARGET_STATES } from './target-state.js'

// Target fields keep the predecessor's names (ip, frequency, is_active, url, notes) and add ours.

// `.optional()` goes outside the transforms: an absent field must stay absent (PATCH leaves it alone),
// while null or "" clears it.
const url = safeText()
  .trim()
  .max(2048)
  .nullable()
  .transform((v, ctx) => {
    if (!v) return null
    try {
      const u = new URL(v)
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme')
      return u.toString()
    } catch {
      ctx.addIssue({ code: 'custom', message: "must be an http(s) URL, e.g. 'https://router.example/'" })
      return z.NEVER
    }
  })
  .optional()

const notes = safeText()
  .max(2000, 'must be at most 2000 characters')
  .nullable()
  .transform((v) => (v && v.trim() ? v : null))
  .optional()

export const tag = safeText()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[\p{L}\p{N}._:/-]+$/u, 'may contain letters, digits and . _ : / - only')

/**
 * The sites (vantage points) that probe a target: 1 to 32 site names, a name given twice counting once;
 * null, the default, is every site. A site need not exist yet: a probe of it may start later.
 */
const sites = z
  .array(siteName)
  .min(1, 'must name at least one site (null: every site)')
  .max(32, 'must name at most 32 sites')
  .transform((names) => [...new Set(names)])
  .nullable()
  .describe('site names that probe the target (null: every site); a name given twice counts once')

export const targetCreateBody = z.object({
  ip: safeText()
    .trim()
    .min(1, 'is required')
    .max(253)
    .describe('IPv4 (four decimal numbers) or IPv6 address, or a hostname resolved once and stored as its address'),
  frequency: z.number().int().min(1).max(3600).default(1).describe('seconds between rounds'),
  url,
  notes,
  name: safeText().trim().max(200).nullish(),
  tags: z.array(tag).max(50).default([]),
  packets: z.number().int().min(1).max(20).default(1).describe('echoes per round'),
  timeout_ms: z.number().int().min(100).max(10000).default(1000),
  badge_public: z.boolean().default(false),
  sites: sites.default(null),
})
export type TargetCreate = z.infer<typeof targetCreateBody>

export const targetUpdateBody = z
  .object({
    frequency: z.number().int().min(1).max(3600).nullish(),
    url,
    notes,
    name: safeText().trim().max(200).nullish(),
    tags: z.array(tag).max(50).optional(),
    packets: z.number().int().min(1).max(20).optional(),
    timeout_ms: z.number().int().min(100).max(10000).optional(),
    badge_public: z.boolean().optional(),
    sites: sites.optional().describe('site names that probe the target; null: every site again'),
  })
  .strict()
export type TargetUpdate = z.infer<typeof targetUpdateBody>

export const targetStateSchema = z
  .enum(TARGET_STATES)
  .describe('up, degraded (answering, ≥ 1 % loss over the last hour), down (an open outage), paused or unknown: API_GUIDE.md, "Target state"')

export const targetOut = z.object({
  id: z.number().int(),
  ip: z.string(),
  frequency: z.number().int(),
  is_active: z.boolean(),
  created_at: z.string(),
  url: z.string().nullable(),
  notes: z.string().nullable(),
  name: z.string().nullable(),
  tags: z.array(z.string()),
  packets: z.number().int(),
  timeout_ms: z.number().int(),
  badge_public: z.boolean(),
  sites: z.array(z.string()).nullable().describe('the sites that probe the target; null: every site'),
  updated_at: z.string(),
  state: targetStateSchema,
  state_since: z.string().describe('when the current state began, e.g. the start of the open outage of a down target'),
  last_sample: z
    .object({ time: z.string(), latency_ms: z.number().nullable(), packet_loss: z.boolean() })
    .nullable(),
  last_reply_at: z.string().nullable(),
})
export type TargetOut = z.infer<typeof targetOut>

export const targetListQuery = z.object({
  tag: safeText().trim().min(1).optional(),
  state: z.enum(['active', 'paused', 'up', 'degraded', 'down', 'unknown']).optional(),
  q: safeText().trim().min(1).max(200).optional().describe('text search in address, name and notes'),
  limit: z.coerce.number().int().min(1).max(10000).default(10000),
  offset: z.coerce.number().int().min(0).default(0),
  sort: z.enum(['id', 'ip', 'name', 'created_at']).default('id'),
})
export type TargetListQuery = z.infer<typeof targetListQuery>

export const targetIdParams = z.object({ id: rowId })

export const targetStatusOut = z.object({ message: z.string(), id: z.number().int() })
