import { describe, expect, it } from 'vitest'
import type { Sql } from '../../src/db/open.js'
import { type Sample, createWriter } from '../../src/probe/writer.js'
import { testLog } from '../helpers/db.js'

// Unit test of the buffer logic alone (the real database path is covered by writer-outage.test.ts):
// a fake `sql` that refuses writes until told otherwise and records the `seq` array of each insert.
function fakeSql() {
  const written: number[] = []
  let down = true
  const sql = ((_strings: TemplateStringsArray, ...values: unknown[]) => {
    if (down) return Promise.reject(new Error('connection refused'))
    const seqs = String(values[3]).slice(1, -1).split(',').map(Number) // site id, times, target ids, seqs, …
    written.push(...seqs)
    return Promise.resolve({ count: seqs.length })
  }) as unknown as Sql
  return { sql, written, up: () => (down = false) }
}

const sample = (seq: number): Sample => ({ time: new Date(0), targetId: 1, seq, rttUs: 10, ttl: 64, jitterUs: null, status: 0, reporter: null })

describe('sample writer buffer', () => {
  it('keeps the newest rows up to its bound, counts what it drops, and writes the rest in order', async () => {
    const db = fakeSql()
    const w = createWriter({ sql: db.sql, log: testLog, batchRows: 300, flushMs: 60_000, maxBuffer: 1000, retryMaxMs: 10 })
    for (let i = 0; i < 100_000; i++) w.add(sample(i % 30_000))
    await w.flush(50) // fails: the database is down
    expect(w.stats()).toMatchObject({ buffered: 1000, dropped: 99_000, retrying: true })
    db.up()
    expect(await w.flush(5000)).toBe(0)
    expect(db.written).toEqual(Array.from({ length: 1000 }, (_, i) => (99_000 + i) % 30_000))
    expect(w.stats()).toMatchObject({ buffered: 0, written: 1000, dropped: 99_000, retrying: false })
    await w.stop()
  })
})
