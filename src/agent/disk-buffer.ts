import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../log.js'

// The remote agent's on-disk buffer of sample batches (AGENT_DATA_DIR/batches). Each batch is one file
// holding exactly the gzip'd body that is posted, written (and fsync'd, file and directory) before its
// first attempt and deleted after the server's 2xx, so a batch survives an unreachable server and an
// agent restart, and is retried with its original batch id. Names keep the order:
// `<sequence, 12 digits>-<batch uuid>-<rows>.json.gz`; the oldest is sent first. A `.tmp` file is a
// write cut short by a crash: it was never posted, and is removed at open.
//
// Bounded by `maxBytes`: beyond it the oldest files are deleted, and their rows added to a `dropped`
// counter kept in `buffer-state.json` (written atomically), so the loss is never silent, survives a
// restart, and is reported in heartbeats and in the log.

export interface BufferedBatch {
  file: string
  seq: number
  batchId: string
  rows: number
  bytes: number
}

export interface DiskBufferStats {
  files: number
  bytes: number
  rows: number
  /** Samples deleted unsent since this buffer was created (bound reached, or refused by the server). */
  droppedRows: number
  droppedBatches: number
}

const NAME = /^(\d{12})-([0-9a-f-]{36})-(\d+)\.json\.gz$/
const STATE_FILE = 'buffer-state.json'

/** Writes a file and its directory entry durably: temp file, fsync, rename, fsync of the directory. */
export async function writeDurably(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, file)
  await syncDir(path.dirname(file))
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export async function openDiskBuffer(opts: { dir: string; maxBytes: number; log: Logger }) {
  const { dir, maxBytes, log } = opts
  await mkdir(dir, { recursive: true })
  const files: BufferedBatch[] = []
  for (const name of (await readdir(dir)).sort()) {
    if (name.endsWith('.tmp')) {
      await rm(path.join(dir, name), { force: true })
      continue
    }
    const m = NAME.exec(name)
    if (!m) continue
    files.push({ file: name, seq: Number(m[1]), batchId: m[2]!, rows: Number(m[3]), bytes: (await stat(path.join(dir, name))).size })
  }
  const state = { droppedRows: 0, droppedBatches: 0 }
  try {
    Object.assign(state, JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as Partial<typeof state>)
  } catch {
    // none yet
  }
  let nextSeq = (files.at(-1)?.seq ?? 0) + 1
  // The batch being posted: the bound deletes the next oldest instead (it might be stored already).
  let sending: BufferedBatch | null = null
  let bytes = files.reduce((n, f) => n + f.bytes, 0)
  // Every change of the directory, one at a time (an append's bound check and a removal never interleave).
  let chain: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn)
    chain = p.catch(() => undefined)
    return p
  }
  if (files.length) log.info({ files: files.length, rows: files.reduce((n, f) => n + f.rows, 0), bytes }, 'agent buffer: batches left from a previous run are sent first')

  async function forget(b: BufferedBatch): Promise<boolean> {
    const i = files.indexOf(b)
    if (i < 0) return false
    files.splice(i, 1)
    bytes -= b.bytes
    await rm(path.join(dir, b.file), { force: true })
    return true
  }

  async function countDropped(batches: BufferedBatch[]): Promise<void> {
    if (batches.length === 0) return
    state.droppedRows += batches.reduce((n, b) => n + b.rows, 0)
    state.droppedBatches += batches.length
    await writeDurably(path.join(dir, STATE_FILE), JSON.stringify(state))
  }

  return {
    /** Writes a batch durably (before it is ever posted); then deletes the oldest beyond the bound. */
    append: (batchId: string, rows: number, body: Buffer): Promise<BufferedBatch> =>
      serial(async () => {
        const b: BufferedBatch = { file: `${String(nextSeq).padStart(12, '0')}-${batchId}-${rows}.json.gz`, seq: nextSeq, batchId, rows, bytes: body.length }
        nextSeq++
        await writeDurably(path.join(dir, b.file), body)
        files.push(b)
        bytes += b.bytes
        const over: BufferedBatch[] = []
        // The newest batch always stays, even alone over the bound.
        for (;;) {
          const oldest = files.find((f) => f !== sending)
          if (bytes <= maxBytes || !oldest || oldest === b) break
          over.push(oldest)
          await forget(oldest)
        }
        if (over.length) {
          await countDropped(over)
          log.error(
            { droppedRows: state.droppedRows, rows: over.reduce((n, x) => n + x.rows, 0), maxBytes },
            'agent buffer full: oldest sample batches deleted unsent',
          )
        }
        return b
      }),
    /** The oldest batch not yet sent, or null. */
    oldest: (): BufferedBatch | null => files[0] ?? null,
    /** Reads a batch to post it; it is kept from the bound until `done`. */
    read: (b: BufferedBatch): Promise<Buffer> => {
      sending = b
      return readFile(path.join(dir, b.file))
    },
    /** The post of `b` is over, whatever its outcome. */
    done: (b: BufferedBatch): void => {
      if (sending === b) sending = null
    },
    /** The server has it: delete the file. */
    remove: (b: BufferedBatch): Promise<boolean> => serial(() => forget(b)),
    /** Deletes a batch unsent (the server refuses it for good), counting its rows as dropped. */
    drop: (b: BufferedBatch): Promise<void> =>
      serial(async () => {
        if (await forget(b)) await countDropped([b])
      }),
    stats: (): DiskBufferStats => ({
      files: files.length,
      bytes,
      rows: files.reduce((n, f) => n + f.rows, 0),
      droppedRows: state.droppedRows,
      droppedBatches: state.droppedBatches,
    }),
    /** Resolves when every change asked for so far is on disk. */
    settled: (): Promise<unknown> => chain,
  }
}

export type DiskBuffer = Awaited<ReturnType<typeof openDiskBuffer>>
