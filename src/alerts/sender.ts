import { randomBytes } from 'node:crypto'
import pLimit from 'p-limit'
import type { Sql } from '../db/open.js'
import { createPeriodic } from '../lib/periodic.js'
import type { Logger } from '../log.js'
import { type Deliver, createDeliver } from './deliver.js'
import { type Backoff, backoffMs, groupBatch } from './notify.js'
import {
  type QueueHead,
  claimChannel,
  dropChannelQueue,
  markDelivered,
  pruneOutbox,
  queueHeads,
  queuedRows,
  recordFailure,
  releaseChannel,
} from './outbox.repo.js'

// The sender: delivers the outbox. Every `pollMs` it asks for the oldest undelivered notification of
// each channel; a channel whose oldest one is due (next_attempt_at reached) is taken (a lease on its
// queue, so one sender at a time delivers it, in order) and its next batch is delivered in one
// notification: the oldest row and those created within `groupWindowMs` of it. Delivered: the batch
// is marked. Failed: every row of it waits `backoff` (doubling, capped) and records the error; after
// `giveUpMs` since the oldest was queued, the batch is given up (failed_at). All its state is in the
// table, so a restarted sender carries on where the last one stopped.
//
// At least once: a sender that dies after the receiver took a batch but before marking it delivered
// sends that batch again once its lease expires. Each item carries its dedupe_key for receivers that
// must not see a repeat.

export interface SenderOptions {
  sql: Sql
  log: Logger
  /** The clock (ms) that next_attempt_at and created_at are on: the evaluator's. */
  now?: () => number
  deliver?: Deliver
  pollMs?: number
  groupWindowMs?: number
  /** At most this many items in one notification. */
  maxBatch?: number
  backoff?: Backoff
  giveUpMs?: number
  /** How long a sender holds a channel's queue at most (a delivery's timeout must be well inside it). */
  leaseMs?: number
  /** Channels delivered at once. */
  concurrency?: number
  /** Delivered and given-up notifications are deleted after this long. */
  keepMs?: number
}

export interface SenderStats {
  ticks: number
  delivered: number
  notifications: number
  failures: number
  givenUp: number
  lastError: string | null
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, capMs: 300_000 }

export function createSender(opts: SenderOptions) {
  const { sql, log } = opts
  const now = opts.now ?? (() => Date.now())
  const deliver = opts.deliver ?? createDeliver()
  const pollMs = opts.pollMs ?? 1000
  const groupWindowMs = opts.groupWindowMs ?? 60_000
  const maxBatch = opts.maxBatch ?? 100
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const giveUpMs = opts.giveUpMs ?? 86_400_000
  const leaseMs = opts.leaseMs ?? 60_000
  const keepMs = opts.keepMs ?? 30 * 86_400_000
  const limit = pLimit(opts.concurrency ?? 4)
  // Unique per sender instance: a restarted process is a new owner and waits for its old leases.
  const owner = `${process.pid}-${randomBytes(4).toString('hex')}`
  const stats: SenderStats = { ticks: 0, delivered: 0, notifications: 0, failures: 0, givenUp: 0, lastError: null }
  let lastPrune = 0

  async function sendChannel(head: QueueHead): Promise<void> {
    const channel = await claimChannel(sql, head.channelId, owner, leaseMs)
    if (!channel) return // another sender is delivering it
    try {
      const at = new Date(now())
      if (!channel.enabled) {
        const n = await dropChannelQueue(sql, channel.id, 'channel disabled', at)
        if (n) log.warn({ channel: channel.name, dropped: n }, 'notifications of a disabled channel dropped')
        return
      }
      const batch = groupBatch(await queuedRows(sql, channel.id, maxBatch), groupWindowMs, maxBatch)
      if (batch.length === 0) return
      const ids = batch.map((r) => r.id)
      try {
        await deliver({ channel, items: batch.map((r) => r.payload), sentAt: at })
      } catch (err) {
        const message = (err as Error).message
        const failures = (batch[0]?.attempts ?? 0) + 1
        const givingUp = at.getTime() - batch[0]!.createdAt.getTime() >= giveUpMs
        await recordFailure(sql, ids, { error: message, nextAttemptAt: new Date(at.getTime() + backoffMs(failures, backoff)), failedAt: givingUp ? at : null })
        stats.failures++
        stats.lastError = message
        if (givingUp) stats.givenUp += batch.length
        log.warn({ channel: channel.name, items: batch.length, attempt: failures, givenUp: givingUp, err: message }, 'notification not delivered')
        return
      }
      await markDelivered(sql, ids, new Date(now()))
      stats.delivered += batch.length
      stats.notifications++
      log.info({ channel: channel.name, items: batch.length }, 'notification delivered')
    } finally {
      await releaseChannel(sql, channel.id, owner)
    }
  }

  /** One pass: every due channel's next batch. Tests call it directly. */
  async function tick(): Promise<void> {
    stats.ticks++
    const t = now()
    const due = (await queueHeads(sql)).filter((h) => h.nextAttemptAt.getTime() <= t)
    await Promise.all(
      due.map((h) =>
        limit(() =>
          sendChannel(h).catch((err) => {
            // The database, not the receiver: the rows are untouched and the next tick tries again.
            stats.lastError = (err as Error).message
            log.warn({ err, channelId: h.channelId }, 'sender: channel pass failed')
          }),
        ),
      ),
    )
    if (t - lastPrune > 3_600_000) {
      lastPrune = t
      await pruneOutbox(sql, new Date(t - keepMs))
    }
  }

  const loop = createPeriodic(tick, pollMs, (err) => {
    stats.lastError = err.message
    log.warn({ err }, 'sender pass failed')
  })

  return {
    tick,
    start: () => loop.start(),
    /** Stops polling and waits for the pass in progress (its deliveries finish or time out). */
    stop: () => loop.stop(),
    stats: (): SenderStats => ({ ...stats }),
  }
}

export type Sender = ReturnType<typeof createSender>
