import nodemailer from 'nodemailer'
import { VERSION } from '../version.js'
import type { ChannelRow } from './channels.repo.js'
import type { EmailConfig, SlackConfig, WebhookConfig } from './channels.schema.js'
import { type NotificationItem, emailMessage, signBody, slackBody, webhookBody } from './notify.js'

// The adapters at the edge: one delivery of a batch of notification items to one channel. A delivery
// resolves when the receiver took it (HTTP 2xx, SMTP 250) and throws otherwise; the sender retries.

export interface Delivery {
  channel: ChannelRow
  items: NotificationItem[]
  sentAt: Date
}

export type Deliver = (d: Delivery) => Promise<void>

export interface DeliverOptions {
  /** Per attempt: connect, send and answer (HTTP) or the whole SMTP dialogue. */
  timeoutMs?: number
}

export class DeliveryError extends Error {
  override name = 'DeliveryError'
}

/** The reason of a failed fetch in one line: ECONNREFUSED rather than "fetch failed". */
function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError') return 'timed out'
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': `pingscope/${VERSION}`, ...headers },
      // A redirect is not a delivery: the receiver's URL is wrong and should be fixed, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw new DeliveryError(`POST ${new URL(url).host}: ${reason(err)}`)
  }
  await res.body?.cancel().catch(() => {})
  if (res.status < 200 || res.status >= 300) throw new DeliveryError(`POST ${new URL(url).host}: HTTP ${res.status}`)
}

async function sendEmail(c: EmailConfig, items: NotificationItem[], timeoutMs: number): Promise<void> {
  const transport = nodemailer.createTransport({
    host: c.host,
    port: c.port,
    secure: c.tls === 'implicit',
    requireTLS: c.tls === 'starttls',
    ignoreTLS: c.tls === 'none',
    ...(c.username ? { auth: { user: c.username, pass: c.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  })
  try {
    const { subject, text } = emailMessage(items)
    await transport.sendMail({ from: c.from, to: c.to, subject, text })
  } catch (err) {
    throw new DeliveryError(`SMTP ${c.host}:${c.port}: ${(err as Error).message}`)
  } finally {
    transport.close()
  }
}

/** Delivers by the channel's kind: signed JSON webhook, Slack incoming webhook, or email over SMTP. */
export function createDeliver(opts: DeliverOptions = {}): Deliver {
  const timeoutMs = opts.timeoutMs ?? 10_000
  return async ({ channel, items, sentAt }) => {
    switch (channel.kind) {
      case 'webhook': {
        const c = channel.config as WebhookConfig
        const body = JSON.stringify(webhookBody(channel, items, sentAt))
        return post(c.url, body, { 'x-pingscope-signature': signBody(body, c.secret), 'x-pingscope-timestamp': String(Math.floor(sentAt.getTime() / 1000)) }, timeoutMs)
      }
      case 'slack':
        return post((channel.config as SlackConfig).url, JSON.stringify(slackBody(items)), {}, timeoutMs)
      case 'email':
        return sendEmail(channel.config as EmailConfig, items, timeoutMs)
    }
  }
}
