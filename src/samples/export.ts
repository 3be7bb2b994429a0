import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { Sql } from '../db/open.js'
import { estimateHops } from './hops.js'

// The CSV export, in constant memory whatever the history: a postgres.js cursor fetches CURSOR_ROWS
// rows at a time, each batch becomes one chunk through csv-stringify, and the next batch is only
// fetched once the HTTP client has taken the previous one (stream back-pressure).
// The predecessor's format: this header, time ascending, empty fields for nulls, packet_loss 0/1, CRLF
// line ends (Python's csv writer, RFC 4180). Times are ISO 8601 with `Z` as in the JSON (the
// predecessor wrote `+00:00` here).
//
// While a cursor is open it holds a transaction: on the embedded engine that is the single backend, so
// every other query waits until the export ends (or until the multiplexer's idle-in-transaction timeout
// disconnects a client that stopped reading). Large batches keep the number of round trips small.

export const CSV_COLUMNS = ['time', 'target_id', 'target_ip', 'latency_ms', 'hops', 'packet_loss'] as const
const CURSOR_ROWS = 5000
const CSV_OPTIONS = { record_delimiter: 'windows' } as const

interface ExportRow {
  time: Date
  rttUs: number | null
  ttl: number | null
}

export interface ExportRange {
  from?: Date | undefined
  to?: Date | undefined
}

/** A readable CSV stream of a target's raw samples in [from, to), oldest first. */
export function streamSamplesCsv(sql: Sql, target: { id: number; address: string }, range: ExportRange): Readable {
  const cursor = sql<ExportRow[]>`
    select time, rtt_us, ttl from samples
    where target_id = ${target.id}
      and ${range.from ? sql`time >= ${range.from}` : sql`true`}
      and ${range.to ? sql`time < ${range.to}` : sql`true`}
    order by time, seq`.cursor(CURSOR_ROWS)

  // One CSV chunk per cursor batch (csv-stringify's sync API on each batch) rather than csv-stringify's
  // stream, which emits a chunk, hence a socket write, per record: 200k rows over HTTP took 1.3 s in
  // 40 writes this way against 1.7 s in 200,000 writes.
  async function* chunks() {
    yield stringify([[...CSV_COLUMNS]], CSV_OPTIONS)
    for await (const rows of cursor) {
      yield stringify(
        rows.map((r) => [r.time.toISOString(), target.id, target.address, r.rttUs === null ? null : r.rttUs / 1000, estimateHops(r.ttl), r.rttUs === null ? 1 : 0]),
        CSV_OPTIONS,
      )
    }
  }
  // Destroying the stream (the client went away) returns the generator, which closes the cursor.
  return Readable.from(chunks(), { objectMode: false })
}
