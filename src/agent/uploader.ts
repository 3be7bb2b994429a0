import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { Logger } from '../log.js'
import type { Sample } from '../probe/writer.js'
import type { OutageTransition, SampleRowJson } from './agent.schema.js'
import { AgentHttpError, type AgentClient } from './client.js'
import type { DiskBuffer } from './disk-buffer.js'

const gzipAsync = promisify(gzip)

// The agent's writer: what the scheduler measures goes into a batch in memory; every `flushMs` (or at
// `batchRows` samples) the batch gets a uuid and is written to the disk buffer, and only then posted.
// Batches are posted one at a time, oldest first; a 2xx deletes the file. An unreachable server, a 5xx,
// 401/403 (a token being fixed) or 429 keep it and retry with backoff (100 ms doubling, capped at
// `retryMaxMs`); a batch the server refuses for good (400, 413, 422: it will never be accepted) is
// deleted and its rows counted as dropped, so one bad batch cannot hold up the others forever.

export interface UploaderOptions {
  buffer: DiskBuffer
  client: AgentClient
  log: Logger
  batchRows?: number
  flushMs?: number
  retryMaxMs?: number
  /** Rows held in memory while the disk refuses writes; beyond it the oldest are dropped and counted. */
  maxMemoryRows?: number
}

export interface UploaderStats {
  /** Samples not yet accepted by the server: in memory and on disk. */
  bufferedRows: number
  bufferedFiles: number
  bufferedBytes: number
  /** Samples deleted unsent (disk bound, refused batches, disk failures), persisted across restarts. */
  droppedRows: number
  postedBatches: number
  postedRows: number
  storedRows: number
  failures: number
  retrying: boolean
  lastError: string | null
}

const toJson = (s: Sample): SampleRowJson => ({
  time: s.time.toISOString(),
  target_id: s.targetId,
  seq: s.seq,
  rtt_us: s.rttUs,
  ttl: s.ttl,
  jitter_us: s.jitterUs,
  status: s.status,
  reporter: s.reporter,
})

export function createUploader(opts: UploaderOptions) {
  const { buffer, client, log } = opts
  const batchRows = opts.batchRows ?? 5000
  const flushMs = opts.flushMs ?? 1000
  const retryMaxMs = opts.retryMaxMs ?? 5000
  const maxMemoryRows = opts.maxMemoryRows ?? 1_000_000
  let samples: SampleRowJson[] = []
  let outages: OutageTransition[] = []
  let memoryDropped = 0
  let sealing: Promise<void> = Promise.resolve()
  let sending: Promise<void> | null = null
  let timer: NodeJS.Timeout | undefined
  let backoffMs = 0
  let stopped = false
  const stats = { postedBatches: 0, postedRows: 0, storedRows: 0, failures: 0, retrying: false, lastError: null as string | null }

  /** Moves what is in memory into a new batch file (in call order), then sends. */
  function seal(): Promise<void> {
    if (samples.length === 0 && outages.length === 0) return sealing
    const batch = { batch_id: randomUUID(), samples, outages }
    samples = []
    outages = []
    sealing = sealing.then(async () => {
      try {
        const body = await gzipAsync(JSON.stringify(batch))
        await buffer.append(batch.batch_id, batch.samples.length, body)
      } catch (err) {
        // The disk refuses (full, read-only): keep the rows in memory, in front, and try again later.
        log.error({ err: (err as Error).message }, 'agent buffer: cannot write a batch to disk; keeping it in memory')
        samples = [...batch.samples, ...samples]
        outages = [...batch.outages, ...outages]
        if (samples.length > maxMemoryRows) {
          const over = samples.length - maxMemoryRows
          samples = samples.slice(over)
          memoryDropped += over
        }
        return
      }
      if (!stats.retrying) kick()
    })
    return sealing
  }

  /** Posts the oldest batch; true when it is gone from the buffer (stored, or refused for good). */
  async function sendOldest(): Promise<boolean> {
    const b = buffer.oldest()
    if (!b) return true
    try {
      const body = await buffer.read(b)
      const res = await client.postBatch(body)
      await buffer.remove(b)
      stats.postedBatches++
      stats.postedRows += b.rows
      stats.storedRows += res.stored
      if (res.unknown_targets || res.out_of_range) log.warn({ batch: b.batchId, unknownTargets: res.unknown_targets, outOfRange: res.out_of_range }, 'server dropped samples of a batch')
      if (stats.retrying) log.info({ buffered: buffer.stats().rows }, 'server reachable again: sending buffered batches')
      stats.retrying = false
      stats.lastError = null
      backoffMs = 0
      return true
    } catch (err) {
      stats.failures++
      const message = err instanceof Error ? err.message : String(err)
      if (err instanceof AgentHttpError && err.permanent) {
        await buffer.drop(b)
        log.error({ batch: b.batchId, rows: b.rows, err: message, droppedRows: buffer.stats().droppedRows }, 'server refused a batch for good: deleted unsent')
        return true
      }
      if (!stats.retrying) log.error({ err: message, buffered: buffer.stats().rows }, 'cannot post samples; keeping them on disk and retrying')
      stats.retrying = true
      stats.lastError = message
      backoffMs = Math.min(retryMaxMs, Math.max(100, backoffMs * 2))
      return false
    } finally {
      buffer.done(b)
    }
  }

  /** Sends until the buffer is empty or a post fails (the timer retries after the backoff). */
  function kick(): Promise<void> {
    const drain = async () => {
      while (buffer.oldest() && !stopped) if (!(await sendOldest())) return
    }
    sending ??= drain().finally(() => (sending = null))
    return sending
  }

  function loop() {
    if (stopped) return
    timer = setTimeout(
      () => {
        void seal()
        if (stats.retrying) void kick()
        loop()
      },
      stats.retrying ? Math.min(backoffMs, flushMs) : flushMs,
    )
  }
  loop()
  // Batches left from a previous run go first, with their original ids.
  void kick()

  return {
    add(s: Sample) {
      samples.push(toJson(s))
      if (samples.length >= batchRows) void seal()
    },
    addOutage(o: OutageTransition) {
      outages.push(o)
    },
    /** Writes what is in memory to disk now. */
    seal,
    /**
     * Stops the timer, writes what is in memory to disk, and tries to post what is buffered until
     * `deadlineMs` passes (a failed post ends the attempt); returns the rows left on disk for next time.
     */
    async stop(deadlineMs = 5000): Promise<number> {
      stopped = true
      clearTimeout(timer)
      await seal()
      await sealing
      if (sending) await sending
      const end = Date.now() + deadlineMs
      while (buffer.oldest() && Date.now() < end) if (!(await sendOldest())) break
      await buffer.settled()
      return buffer.stats().rows
    },
    stats(): UploaderStats {
      const b = buffer.stats()
      return {
        ...stats,
        bufferedRows: samples.length + b.rows,
        bufferedFiles: b.files,
        bufferedBytes: b.bytes,
        droppedRows: b.droppedRows + memoryDropped,
      }
    },
  }
}

export type Uploader = ReturnType<typeof createUploader>
