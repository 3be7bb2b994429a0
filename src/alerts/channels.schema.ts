import { z } from 'zod'
import { safeText } from '../lib/input.schema.js'

// Notification channels. A body carries `kind` and a `config` object whose shape depends on the kind:
// the service checks `config` against CONFIG_SCHEMAS[kind] (errors name `config.<field>`) after a
// PATCH is merged, and the OpenAPI document keeps one flat body that the security fuzzer can walk.

export const CHANNEL_KINDS = ['webhook', 'slack', 'email'] as const
export type ChannelKind = (typeof CHANNEL_KINDS)[number]

const httpUrl = safeText()
  .trim()
  .min(1)
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v)
      return u.protocol === 'http:' || u.protocol === 'https:'
    } catch {
      return false
    }
  }, "must be an http(s) URL, e.g. 'https://hooks.example/pingscope'")

const address = safeText()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@<>,;"]+@[^\s@<>,;"]+$/, 'must be an email address such as noc@example.com')

export const webhookConfig = z.object({
  url: httpUrl,
  secret: safeText().min(16, 'must be at least 16 characters').max(200).optional().describe('HMAC-SHA256 key; generated when absent'),
})

export const slackConfig = z.object({ url: httpUrl.describe('a Slack-compatible incoming webhook URL') })

export const emailConfig = z.object({
  host: safeText().trim().min(1).max(253).regex(/^[A-Za-z0-9.:[\]_-]+$/, 'must be a hostname or an IP address'),
  port: z.number().int().min(1).max(65535).default(587),
  tls: z.enum(['starttls', 'implicit', 'none']).default('starttls').describe('starttls: required STARTTLS; implicit: TLS from the first byte (port 465); none: plain text'),
  username: safeText().max(200).nullish(),
  password: safeText().max(200).nullish(),
  from: address,
  to: z.array(address).min(1).max(20),
})

export type WebhookConfig = z.infer<typeof webhookConfig> & { secret: string }
export type SlackConfig = z.infer<typeof slackConfig>
export type EmailConfig = z.infer<typeof emailConfig>
export type ChannelConfig = WebhookConfig | SlackConfig | EmailConfig

export const CONFIG_SCHEMAS = { webhook: webhookConfig, slack: slackConfig, email: emailConfig } as const

const name = safeText().trim().min(1).max(200)
const looseConfig = z.record(safeText().max(100), z.unknown())

export const channelCreateBody = z.object({
  name,
  kind: z.enum(CHANNEL_KINDS),
  config: looseConfig.describe('webhook: {url, secret?}; slack: {url}; email: {host, port, tls, username, password, from, to}'),
  enabled: z.boolean().default(true),
})
export type ChannelCreate = z.infer<typeof channelCreateBody>

export const channelUpdateBody = z
  .object({
    name: name.optional(),
    config: looseConfig.optional().describe('merged into the current config: absent keys keep their value (secrets too), null clears an optional one'),
    enabled: z.boolean().optional(),
  })
  .strict()
export type ChannelUpdate = z.infer<typeof channelUpdateBody>

export const channelOut = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: z.enum(CHANNEL_KINDS),
  enabled: z.boolean(),
  config: z.record(z.string(), z.unknown()).describe('secrets masked'),
  pending: z.number().int().describe('notifications waiting to be delivered'),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
})
export type ChannelOut = z.infer<typeof channelOut>

export const channelCreatedOut = channelOut.extend({
  secret: z.string().optional().describe('the webhook secret pingscope generated: shown once'),
})
