import { randomUUID } from 'node:crypto'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDiskBuffer } from '../../src/agent/disk-buffer.js'
import { tempDir, testLog } from '../helpers/db.js'

// The remote agent's on-disk buffer (src/agent/disk-buffer.ts): batches kept in order across restarts,
// bounded in bytes, and every batch deleted unsent counted in a counter that survives restarts.

describe('agent disk buffer', () => {
  const dirs: string[] = []
  const dir = () => {
    const d = tempDir('pingscope-agent-buffer-')
    dirs.push(d)
    return path.join(d, 'batches')
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const body = (bytes: number) => Buffer.alloc(bytes, 7)

  it('hands batches out oldest first, and only removes what it is told to', async () => {
    const b = await openDiskBuffer({ dir: dir(), maxBytes: 1e9, log: testLog })
    const ids = Array.from({ length: 12 }, () => randomUUID())
    for (const [i, id] of ids.entries()) await b.append(id, i + 1, body(10))
    expect(b.stats()).toMatchObject({ files: 12, bytes: 120, rows: 78, droppedRows: 0 })
    const seen: string[] = []
    for (let x = b.oldest(); x; x = b.oldest()) {
      expect((await b.read(x)).length).toBe(10)
      seen.push(x.batchId)
      await b.remove(x)
      b.done(x)
    }
    expect(seen).toEqual(ids)
    expect(b.stats()).toMatchObject({ files: 0, bytes: 0, rows: 0 })
  })

  it('survives a restart: files left are picked up in order with their batch ids; a half-written file is discarded', async () => {
    const d = dir()
    const first = await openDiskBuffer({ dir: d, maxBytes: 1e9, log: testLog })
    const ids = Array.from({ length: 3 }, () => randomUUID())
    for (const id of ids) await first.append(id, 5, body(100))
    await first.remove(first.oldest()!)
    writeFileSync(path.join(d, `000000000099-${randomUUID()}-5.json.gz.tmp`), 'cut short')

    const again = await openDiskBuffer({ dir: d, maxBytes: 1e9, log: testLog })
    expect(again.stats()).toMatchObject({ files: 2, rows: 10, bytes: 200 })
    expect(again.oldest()!.batchId).toBe(ids[1])
    expect(readdirSync(d).some((f) => f.endsWith('.tmp'))).toBe(false)
    // new batches go after the old ones
    const later = randomUUID()
    await again.append(later, 1, body(1))
    const order: string[] = []
    for (let x = again.oldest(); x; x = again.oldest()) {
      order.push(x.batchId)
      await again.remove(x)
    }
    expect(order).toEqual([ids[1], ids[2], later])
  })

  it('deletes the oldest batches beyond its bound, counts their rows as dropped, and keeps the count across restarts', async () => {
    const d = dir()
    const b = await openDiskBuffer({ dir: d, maxBytes: 1000, log: testLog })
    const ids = Array.from({ length: 8 }, () => randomUUID())
    for (const id of ids) await b.append(id, 10, body(300)) // 3 fit
    expect(b.stats()).toMatchObject({ files: 3, bytes: 900, rows: 30, droppedRows: 50, droppedBatches: 5 })
    expect(b.oldest()!.batchId).toBe(ids[5])

    // The batch being posted is not the one the bound deletes (it may be stored already).
    const posting = b.oldest()!
    await b.read(posting)
    await b.append(randomUUID(), 10, body(300))
    expect(b.oldest()!.batchId).toBe(ids[5])
    expect(b.stats()).toMatchObject({ files: 3, droppedRows: 60 })
    b.done(posting)

    // A batch refused for good is dropped and counted too.
    await b.drop(b.oldest()!)
    expect(b.stats()).toMatchObject({ files: 2, droppedRows: 70, droppedBatches: 7 })

    const again = await openDiskBuffer({ dir: d, maxBytes: 1000, log: testLog })
    expect(again.stats()).toMatchObject({ files: 2, rows: 20, droppedRows: 70, droppedBatches: 7 })
    // A single batch larger than the bound is kept: the newest is never deleted.
    await again.append(randomUUID(), 99, body(5000))
    expect(again.stats()).toMatchObject({ files: 1, rows: 99, droppedRows: 90 })
  })
})
