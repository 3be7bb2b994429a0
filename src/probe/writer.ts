import type { Queryable, Sql } from '../db/open.js'
import type { Logger } from '../log.js'
import { intArrayLiteral, textArrayLiteral } from '../db/arrays.js'
import { DEFAULT_SITE_ID } from '../sites/sites.repo.js'

// Batched, loss-free ingest of samples. Samples are buffered and written every `flushMs` or `batchRows`
// rows with one statement of eight array parameters (`unnest`): far below the embedded engine's bind
// parameter limit whatever the batch size, and 55–63k rows/s there. If the database is unreachable the
// buffer keeps growing up to `maxBuffer` rows while writes are retried with backoff, so a database
// restart of tens of seconds loses nothing; beyond the bound the oldest rows are dropped, counted and
// reported. A retried batch may already have been committed: `on conflict do nothing` on
// (target_id, site_id, time, seq) makes the retry harmless. A writer writes for one site (its probe's).

export interface Sample {
  time: Date
  targetId: number
  seq: number
  rttUs: number | null
  ttl: number | null
  jitterUs: number | null
  status: number
  reporter: string | null
}

export interface WriterOptions {
  sql: Sql
  log: Logger
  batchRows?: number
  flushMs?: number
  maxBuffer?: number
  retryMaxMs?: number
  /** The site the samples were measured from (sites.id; default 1, 'default'), read at each write. */
  siteId?: () => number
}

export interface WriterStats {
  buffered: number
  written: number
  batches: number
  failures: number
  dropped: number
  retrying: boolean
  lastError: string | null
  lastFlushMs: number | null
}

/** Inserts one batch measured from site `siteId`; returns the number of rows that were new. */
export async function insertSamples(sql: Queryable, rows: Sample[], siteId = DEFAULT_SITE_ID): Promise<number> {
  if (rows.length === 0) return 0
  // Eight array parameters whatever the batch size (src/db/arrays.ts).
  const res = await sql`
    insert into samples (site_id, time, target_id, seq, rtt_us, ttl, jitter_us, status, reporter)
    select ${siteId}::smallint, * from unnest(
      ${textArrayLiteral(rows.map((r) => r.time.toISOString()))}::timestamptz[],
      ${intArrayLiteral(rows.map((r) => r.targetId))}::int[],
      ${intArrayLiteral(rows.map((r) => r.seq))}::smallint[],
      ${intArrayLiteral(rows.map((r) => r.rttUs))}::int[],
      ${intArrayLiteral(rows.map((r) => r.ttl))}::smallint[],
      ${intArrayLiteral(rows.map((r) => r.jitterUs))}::int[],
      ${intArrayLiteral(rows.map((r) => r.status))}::smallint[],
      ${textArrayLiteral(rows.map((r) => r.reporter))}::inet[])
    on conflict do nothing`
  return res.count
}

export function createWriter(opts: WriterOptions) {
  const { sql, log } = opts
  const batchRows = opts.batchRows ?? 5000
  const flushMs = opts.flushMs ?? 1000
  const maxBuffer = opts.maxBuffer ?? 2_000_000
  const retryMaxMs = opts.retryMaxMs ?? 5000
  // A FIFO with a moving head: writing a batch or dropping the oldest rows only moves `head` (O(1));
  // the array is compacted once the consumed part is large. Slicing the array instead would copy up to
  // `maxBuffer` rows per sample once the bound is reached, exactly when the database is long gone.
  let buffer: Sample[] = []
  let head = 0
  const buffered = () => buffer.length - head
  function consume(n: number) {
    head += n
    if (head >= 65_536 && head * 2 >= buffer.length) {
      buffer = buffer.slice(head)
      head = 0
    }
  }
  const stats: Omit<WriterStats, 'buffered'> = {
    written: 0,
    batches: 0,
    failures: 0,
    dropped: 0,
    retrying: false,
    lastError: null,
    lastFlushMs: null,
  }
  let writing: Promise<void> | null = null
  let timer: NodeJS.Timeout | undefined
  let backoffMs = 0
  let stopped = false

  async function writeOnce(): Promise<boolean> {
    const batch = buffer.slice(head, head + batchRows)
    if (batch.length === 0) return true
    const t0 = performance.now()
    try {
      await insertSamples(sql, batch, opts.siteId?.() ?? DEFAULT_SITE_ID)
      consume(batch.length)
      stats.written += batch.length
      stats.batches++
      stats.lastFlushMs = Math.round(performance.now() - t0)
      if (stats.retrying) log.info({ buffered: buffered() }, 'database writes recovered')
      stats.retrying = false
      backoffMs = 0
      return true
    } catch (err) {
      stats.failures++
      stats.lastError = err instanceof Error ? err.message : String(err)
      if (!stats.retrying) log.error({ err: stats.lastError, buffered: buffered() }, 'cannot write samples; buffering and retrying')
      stats.retrying = true
      backoffMs = Math.min(retryMaxMs, Math.max(100, backoffMs * 2))
      return false
    }
  }

  /** Writes until the buffer is empty or a write fails. */
  async function drain() {
    while (buffered() > 0) if (!(await writeOnce())) return
  }

  function kick() {
    if (writing) return
    writing = drain().finally(() => {
      writing = null
      // Rows added while the last write was finishing would otherwise wait for the timer.
      if (buffered() >= batchRows && !stats.retrying) kick()
    })
  }

  function schedule() {
    if (stopped) return
    timer = setTimeout(() => {
      kick()
      schedule()
    }, stats.retrying ? backoffMs : flushMs)
    timer.unref()
  }
  schedule()

  return {
    add(s: Sample) {
      buffer.push(s)
      if (buffered() > maxBuffer) {
        // Over the bound: keep the newest, count what is given up, and say so every time.
        const over = buffered() - maxBuffer
        consume(over)
        stats.dropped += over
        log.error({ dropped: stats.dropped, maxBuffer }, 'sample buffer full: oldest samples dropped')
      }
      if (buffered() >= batchRows && !stats.retrying) kick()
    },
    /** Writes everything buffered, retrying until `deadlineMs` passes; returns rows left unwritten. */
    async flush(deadlineMs = 30_000): Promise<number> {
      const end = Date.now() + deadlineMs
      for (;;) {
        if (writing) await writing
        if (buffered() === 0) return 0
        if (Date.now() >= end) return buffered()
        await drain()
        if (buffered() > 0 && stats.retrying) await new Promise((r) => setTimeout(r, Math.min(backoffMs, end - Date.now())))
      }
    },
    /** Stops the timer and flushes; rows that still cannot be written are counted as dropped. */
    async stop(deadlineMs = 30_000): Promise<number> {
      stopped = true
      clearTimeout(timer)
      const left = await this.flush(deadlineMs)
      if (left > 0) {
        stats.dropped += left
        log.error({ unwritten: left }, 'samples could not be written before exit')
      }
      return left
    },
    stats: (): WriterStats => ({ ...stats, buffered: buffered() }),
  }
}

export type Writer = ReturnType<typeof createWriter>
