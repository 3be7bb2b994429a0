import { z } from 'zod'
import { MAX_ID, isoTime, rowId, safeText } from '../lib/input.schema.js'
import { tag } from '../targets/targets.schema.js'

// The API contracts of alerting: rules, silences and incidents (channels: channels.schema.ts). Field
// rules that span fields (a tag rule needs a tag, a loss threshold is a percentage) are checked by
// the service after a PATCH is merged, so that create and update share them (rules.service.ts).

export const ALERT_CONDITIONS = ['outage', 'loss', 'latency_p95', 'latency_p50', 'path_change', 'probe_missing'] as const
export type AlertCondition = (typeof ALERT_CONDITIONS)[number]
/** Conditions that take no threshold: they hold while a state lasts (an open outage, no live probe). */
export const STATE_CONDITIONS: readonly AlertCondition[] = ['outage', 'probe_missing']
export const SEVERITIES = ['critical', 'warning', 'info'] as const
export type Severity = (typeof SEVERITIES)[number]
export const RULE_SCOPES = ['target', 'tag', 'all'] as const

/** An id inside a JSON body (a path id is `rowId`, which also takes text). */
export const bodyId = z.number().int().min(1).max(MAX_ID)
export const idParams = z.object({ id: rowId })
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
}

const name = safeText().trim().min(1).max(200)
const seconds = (min: number, max: number) => z.number().int().min(min).max(max)

export const ruleCreateBody = z.object({
  name,
  scope: z.enum(RULE_SCOPES).describe('one target (target_id), the targets with a tag (tag), or all targets'),
  target_id: bodyId.nullish(),
  tag: tag.nullish(),
  condition: z.enum(ALERT_CONDITIONS),
  threshold: z
    .number()
    .min(0)
    .max(1_000_000)
    .nullish()
    .describe('loss: percent (0-100); latency: milliseconds; path_change: changes within the window (default 1); met when the value is >= threshold; none for outage and probe_missing'),
  window_s: seconds(60, 86400).default(300).describe('loss and latency are judged over the minutes that begin inside this window'),
  for_s: seconds(0, 86400).default(60).describe('the condition must hold this long to fire'),
  recover_s: seconds(0, 86400).default(120).describe('and be clear this long to resolve'),
  severity: z.enum(SEVERITIES).default('warning'),
  muted: z.boolean().default(false).describe('still evaluated, incidents still recorded, nothing notified'),
  channel_ids: z.array(bodyId).max(20).default([]),
})
export type RuleCreate = z.infer<typeof ruleCreateBody>

export const ruleUpdateBody = z
  .object({
    name: name.optional(),
    scope: z.enum(RULE_SCOPES).optional(),
    target_id: bodyId.nullish(),
    tag: tag.nullish(),
    condition: z.enum(ALERT_CONDITIONS).optional(),
    threshold: z.number().min(0).max(1_000_000).nullish(),
    window_s: seconds(60, 86400).optional(),
    for_s: seconds(0, 86400).optional(),
    recover_s: seconds(0, 86400).optional(),
    severity: z.enum(SEVERITIES).optional(),
    muted: z.boolean().optional(),
    channel_ids: z.array(bodyId).max(20).optional(),
  })
  .strict()
export type RuleUpdate = z.infer<typeof ruleUpdateBody>

export const ruleOut = z.object({
  id: z.number().int(),
  name: z.string(),
  scope: z.enum(RULE_SCOPES),
  target_id: z.number().int().nullable(),
  tag: z.string().nullable(),
  condition: z.enum(ALERT_CONDITIONS),
  threshold: z.number().nullable(),
  window_s: z.number().int(),
  for_s: z.number().int(),
  recover_s: z.number().int(),
  severity: z.enum(SEVERITIES),
  muted: z.boolean(),
  channel_ids: z.array(z.number().int()),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
})
export type RuleOut = z.infer<typeof ruleOut>

export const silenceCreateBody = z.object({
  target_id: bodyId.nullish(),
  tag: tag.nullish(),
  starts_at: isoTime.optional().describe('default: now'),
  ends_at: isoTime,
  reason: safeText().trim().min(1).max(2000),
})
export type SilenceCreate = z.infer<typeof silenceCreateBody>

export const silenceUpdateBody = z
  .object({ starts_at: isoTime.optional(), ends_at: isoTime.optional(), reason: safeText().trim().min(1).max(2000).optional() })
  .strict()
export type SilenceUpdate = z.infer<typeof silenceUpdateBody>

export const silenceListQuery = z.object({
  state: z.enum(['active', 'upcoming', 'expired', 'all']).default('all'),
  target_id: rowId.optional(),
  tag: safeText().trim().min(1).max(50).optional(),
  ...pageQuery,
})
export type SilenceListQuery = z.infer<typeof silenceListQuery>

export const silenceOut = z.object({
  id: z.number().int(),
  target_id: z.number().int().nullable(),
  tag: z.string().nullable(),
  starts_at: z.string(),
  ends_at: z.string(),
  reason: z.string(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  active: z.boolean(),
})
export type SilenceOut = z.infer<typeof silenceOut>

export const incidentListQuery = z.object({
  state: z.enum(['open', 'closed', 'all']).default('all'),
  rule_id: rowId.optional(),
  target_id: rowId.optional(),
  severity: z.enum(SEVERITIES).optional(),
  acknowledged: z.enum(['true', 'false']).optional(),
  from: isoTime.optional().describe('incidents still open at or after this time'),
  to: isoTime.optional().describe('incidents started before this time'),
  ...pageQuery,
})
export type IncidentListQuery = z.infer<typeof incidentListQuery>

export const incidentNoteBody = z.object({ text: safeText().trim().min(1).max(2000) })

const noteOut = z.object({ at: z.string(), by: z.string().nullable(), text: z.string() })

export const incidentOut = z.object({
  id: z.number().int(),
  rule_id: z.number().int().nullable(),
  rule_name: z.string(),
  condition: z.string(),
  severity: z.string(),
  threshold: z.number().nullable(),
  unit: z.string(),
  target_id: z.number().int(),
  target_address: z.string(),
  target_name: z.string().nullable(),
  started_at: z.string(),
  fired_at: z.string(),
  ended_at: z.string().nullable(),
  ongoing: z.boolean(),
  duration_s: z.number(),
  end_reason: z.string().nullable(),
  peak: z.number().nullable(),
  notified: z.boolean(),
  acknowledged_by: z.string().nullable(),
  acknowledged_at: z.string().nullable(),
  notes: z.array(noteOut),
})
export type IncidentOut = z.infer<typeof incidentOut>

export const notificationOut = z.object({
  id: z.number().int(),
  channel_id: z.number().int(),
  transition: z.enum(['fire', 'resolve']),
  attempts: z.number().int(),
  created_at: z.string(),
  next_attempt_at: z.string(),
  delivered_at: z.string().nullable(),
  failed_at: z.string().nullable(),
  last_error: z.string().nullable(),
})

export const incidentDetailOut = incidentOut.extend({ notifications: z.array(notificationOut) })

export const deletedOut = z.object({ message: z.string(), id: z.number().int() })
