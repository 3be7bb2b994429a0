import http from 'node:http'
import type { AddressInfo } from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../src/db/open.js'
import { PAGE_ROWS } from '../../src/samples/export.js'
import { type Sample, insertSamples } from '../../src/probe/writer.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { ENGINES } from '../helpers/engines.js'

// Raw history routes on the real engine: /logs, /logs/export (streamed CSV) and /events.

const HEADER = 'time,target_id,target_ip,latency_ms,hops,packet_loss,site'
const BIG_ROWS = 200_000

async function makeTarget(sql: Sql, address: string): Promise<number> {
  const [t] = await sql<{ id: number }[]>`insert into targets (address, enabled) values (${address}, false) returning id`
  return t!.id
}

// Known samples: one a second; every 7th lost; TTLs cycling through the initial-TTL classes.
const TTLS = [57, 118, 250, 64]
function knownSamples(targetId: number, startMs: number, n: number): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const lost = i % 7 === 3
    return {
      time: new Date(startMs + i * 1000),
      targetId,
      seq: 0,
      rttUs: lost ? null : 1000 + i * 13,
      ttl: lost ? null : TTLS[i % 4]!,
      jitterUs: null,
      status: lost ? (i % 2 ? 1 : 2) : 0,
      reporter: null,
    }
  })
}

const hopsOf = (ttl: number | null) => (ttl === null ? null : (ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255) - ttl)
const csvLine = (s: Sample, address: string) =>
  [s.time.toISOString(), s.targetId, address, s.rttUs === null ? '' : s.rttUs / 1000, hopsOf(s.ttl) ?? '', s.rttUs === null ? 1 : 0, 'default'].join(',')

describe.each(ENGINES)('samples API (%s engine)', (engine) => {
  let t: TestApp
  let sql: Sql
  let small: number
  let big: number
  const smallAddress = '192.0.2.10'
  const start = Date.UTC(2025, 0, 1, 12, 0, 0)
  const samples: Sample[] = []

  beforeAll(async () => {
    t = await buildTestApp(engine)
    sql = t.db.sql
    small = await makeTarget(sql, smallAddress)
    big = await makeTarget(sql, '192.0.2.11')
    samples.push(...knownSamples(small, start, 150))
    // Two echoes at the same instant: seq orders them.
    samples.push({ ...samples[149]!, time: new Date(start + 150_000), seq: 1, rttUs: 5000 }, { ...samples[149]!, time: new Date(start + 150_000), seq: 0, rttUs: 4000 })
    await insertSamples(sql, samples)
    samples.sort((a, b) => a.time.getTime() - b.time.getTime() || a.seq - b.seq)

    const bigStart = Date.now() - BIG_ROWS * 1000
    for (let i = 0; i < BIG_ROWS; i += 10_000) {
      const batch = knownSamples(big, bigStart + i * 1000, 10_000).map((s) => ({ ...s, rttUs: s.rttUs === null ? null : s.rttUs + i }))
      await insertSamples(sql, batch)
    }
  })
  afterAll(() => t?.close())

  /** The app on a real socket (listening once), so responses are consumed as they are produced. */
  async function listen(): Promise<number> {
    if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' })
    return (t.app.server.address() as AddressInfo).port
  }

  it('returns the newest N samples oldest first, with the predecessor fields', async () => {
    const res = await t.app.inject({ url: `/targets/${small}/logs?limit=20`, headers: t.viewer })
    expect(res.statusCode).toBe(200)
    const logs = res.json<{ time: string; latency_ms: number | null; hops: number | null; packet_loss: boolean; rtt_us: number | null; ttl: number | null; seq: number; status: string }[]>()
    const newest = samples.slice(-20)
    expect(logs.map((l) => [l.time, l.seq])).toEqual(newest.map((s) => [s.time.toISOString(), s.seq]))
    for (const [i, l] of logs.entries()) {
      const s = newest[i]!
      expect(l).toEqual({
        time: s.time.toISOString(),
        latency_ms: s.rttUs === null ? null : s.rttUs / 1000,
        hops: hopsOf(s.ttl),
        packet_loss: s.rttUs === null,
        rtt_us: s.rttUs,
        ttl: s.ttl,
        seq: s.seq,
        status: ['ok', 'timeout', 'unreachable', 'error'][s.status],
        site: 'default',
      })
    }
    expect(logs.some((l) => l.packet_loss && l.hops === null && l.latency_ms === null)).toBe(true)
    // TTL 57 → 7 hops, 118 → 10, 250 → 5, 64 → 0 (the predecessor's examples).
    expect(new Set(logs.filter((l) => l.ttl !== null).map((l) => `${l.ttl}:${l.hops}`))).toEqual(new Set(['57:7', '118:10', '250:5', '64:0']))

    const dflt = await t.app.inject({ url: `/targets/${small}/logs`, headers: t.viewer })
    expect(dflt.json()).toHaveLength(100)
    const all = await t.app.inject({ url: `/targets/${small}/logs?limit=1000`, headers: t.viewer })
    expect(all.json()).toHaveLength(samples.length)
  })

  it('validates limit and answers 404 for an unknown target', async () => {
    for (const limit of ['0', '1001', 'abc', '1.5']) {
      const res = await t.app.inject({ url: `/targets/${small}/logs?limit=${limit}`, headers: t.viewer })
      expect(res.statusCode, limit).toBe(422)
      expect(res.json().detail[0].loc).toEqual(['querystring', 'limit'])
    }
    for (const path of ['logs', 'logs/export', 'events']) {
      const res = await t.app.inject({ url: `/targets/99999/${path}`, headers: t.viewer })
      expect(res.statusCode, path).toBe(404)
      expect(res.json()).toEqual({ detail: 'Target not found' })
    }
    expect((await t.app.inject({ url: `/targets/${small}/logs` })).statusCode).toBe(401)
  })

  it('exports CSV in the predecessor format, oldest first', async () => {
    const res = await t.app.inject({ url: `/targets/${small}/logs/export`, headers: t.viewer })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(`attachment; filename=pingscope-target-${small}-logs.csv`)
    const expected = [HEADER, ...samples.map((s) => csvLine(s, smallAddress))].join('\r\n') + '\r\n'
    expect(res.body).toBe(expected)
    // Spot checks of the format itself, independent of csvLine.
    const lines = res.body.split('\r\n')
    expect(lines[0]).toBe(HEADER)
    expect(lines[1]).toBe(`2025-01-01T12:00:00.000Z,${small},${smallAddress},1,7,0,default`)
    expect(lines[4]).toBe(`2025-01-01T12:00:03.000Z,${small},${smallAddress},,,1,default`)
  })

  it('filters the export by [from, to) and validates the range', async () => {
    const from = new Date(start + 10_000).toISOString()
    const to = new Date(start + 20_000).toISOString()
    const res = await t.app.inject({ url: `/targets/${small}/logs/export?from=${from}&to=${to}`, headers: t.viewer })
    const lines = res.body.trimEnd().split('\r\n')
    expect(lines).toHaveLength(11)
    expect(lines.slice(1)).toEqual(samples.slice(10, 20).map((s) => csvLine(s, smallAddress)))
    // Offsets are accepted and mean the same instant.
    const offset = await t.app.inject({ url: `/targets/${small}/logs/export?from=${encodeURIComponent('2025-01-01T13:00:10+01:00')}&to=${to}`, headers: t.viewer })
    expect(offset.body).toBe(res.body)
    const onlyFrom = await t.app.inject({ url: `/targets/${small}/logs/export?from=${new Date(start + 148_000).toISOString()}`, headers: t.viewer })
    expect(onlyFrom.body.trimEnd().split('\r\n')).toHaveLength(1 + samples.filter((s) => s.time.getTime() >= start + 148_000).length)
    const empty = await t.app.inject({ url: `/targets/${small}/logs/export?from=${from}&to=${from}`, headers: t.viewer })
    expect(empty.body).toBe(`${HEADER}\r\n`)

    const reversed = await t.app.inject({ url: `/targets/${small}/logs/export?from=${to}&to=${from}`, headers: t.viewer })
    expect(reversed.statusCode).toBe(422)
    expect(reversed.json().detail[0].loc).toEqual(['querystring', 'from'])
    const bad = await t.app.inject({ url: `/targets/${small}/logs/export?to=yesterday`, headers: t.viewer })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['querystring', 'to'])
  })

  it(`streams a ${BIG_ROWS.toLocaleString('en-US')}-row export in bounded memory`, async () => {
    // Memory (JS heap + buffers) is read
    // every 50 ms after a gc(), so the readings measure what is retained, not garbage awaiting collection.
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const port = await listen()
    const retained = () => {
      gc()
      const m = process.memoryUsage()
      return m.heapUsed + m.external
    }
    const baseline = retained()
    let maxGrowth = 0
    const sampler = setInterval(() => (maxGrowth = Math.max(maxGrowth, retained() - baseline)), 50)
    let chunks = 0
    let bytes = 0
    let rows = -1 // the header
    let tail = ''
    let lastTime = ''
    let ordered = true
    const t0 = performance.now()
    let firstChunkMs = 0
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ port, host: '127.0.0.1', path: `/targets/${big}/logs/export`, headers: t.viewer }, (res) => {
        expect(res.statusCode).toBe(200)
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (chunks++ === 0) firstChunkMs = performance.now() - t0
          bytes += chunk.length
          const lines = (tail + chunk).split('\r\n')
          tail = lines.pop()!
          for (const line of lines) {
            rows++
            if (rows === 0) continue
            const time = line.slice(0, 24)
            if (time < lastTime) ordered = false
            lastTime = time
          }
        })
        res.on('end', resolve)
        res.on('error', reject)
      })
      req.on('error', reject)
    }).finally(() => clearInterval(sampler))
    const totalMs = performance.now() - t0
    expect(tail).toBe('')
    expect(rows).toBe(BIG_ROWS)
    expect(ordered).toBe(true)
    // Everything held at once would be the rows (~30 MB of objects) plus the CSV text (bytes × 2 in
    // UTF-16); streaming holds a cursor batch or two.
    expect(bytes).toBeGreaterThan(8_000_000)
    expect(maxGrowth).toBeLessThan(bytes / 2)
    expect(chunks).toBeGreaterThan(100)
    expect(firstChunkMs).toBeLessThan(totalMs / 4)
    console.log(
      `export: ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB in ${chunks} chunks, ${Math.round(totalMs)} ms, ` +
        `first chunk after ${Math.round(firstChunkMs)} ms, max heap growth ${(maxGrowth / 1e6).toFixed(1)} MB`,
    )
  })

  it('serves other requests while a slow client holds a large export open, and finishes it after', async () => {
    // A client that reads the first bytes and then stops: back-pressure stops the export. An export that
    // held the database meanwhile (a cursor, i.e. an open transaction) stalled every other request on the
    // embedded engine's single backend, and on a server pins a snapshot and a lock.
    const port = await listen()
    let req: http.ClientRequest | undefined
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req = http.get({ port, host: '127.0.0.1', path: `/targets/${big}/logs/export`, headers: t.viewer }, (r) => {
          r.pause()
          resolve(r)
        })
        req.on('error', reject)
      })
      expect(res.statusCode).toBe(200)
      await new Promise((r) => setTimeout(r, 1000)) // socket buffers fill, the stream stops pulling pages

      const within = <T,>(ms: number, what: string, p: Promise<T>) =>
        Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))])
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now()
        const list = await within(5000, 'GET /targets/', t.app.inject({ url: '/targets/', headers: t.viewer }))
        expect(list.statusCode).toBe(200)
        // Stalled behind the export, it would wait until the reader resumes (never, here): any answer
        // is the point. 3 s leaves room for a loaded machine (the list itself takes about 0.1–0.3 s).
        expect(performance.now() - t0, 'GET /targets/ during a paused export').toBeLessThan(3000)
      }
      // No session of this database holds a transaction while the reader is paused: none that is open in
      // two looks a second apart (a page query that happens to be running is a transaction of a moment).
      const openTransactions = () =>
        within(5000, 'pg_stat_activity', sql<{ pid: number; xactStart: Date; state: string; query: string }[]>`
          select pid, xact_start, state, query from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' and xact_start is not null`)
      const first = await openTransactions()
      await new Promise((r) => setTimeout(r, 1000))
      const held = (await openTransactions()).filter((b) => first.some((a) => a.pid === b.pid && a.xactStart.getTime() === b.xactStart.getTime()))
      expect(held.map((b) => `${b.state}: ${b.query}`), 'transactions held during a paused export').toEqual([])

      // Read on: the export completes, every row once and in order.
      let rows = -1
      let tail = ''
      let lastTime = ''
      let ordered = true
      await new Promise<void>((resolve, reject) => {
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          const lines = (tail + chunk).split('\r\n')
          tail = lines.pop()!
          for (const line of lines) {
            if (rows++ < 0) continue
            const time = line.slice(0, 24)
            if (time < lastTime) ordered = false
            lastTime = time
          }
        })
        res.on('end', resolve)
        res.on('error', reject)
        res.resume()
      })
      expect({ rows, tail, ordered }).toEqual({ rows: BIG_ROWS, tail: '', ordered: true })
    } finally {
      req?.destroy()
    }
  }, 60_000)

  it('pages through rows that share a timestamp and microsecond times without losing or repeating one', async () => {
    // Rounds of three echoes: seq 0 at t, seq 1 and 2 at t + 1 µs. A page (PAGE_ROWS ≡ 2 mod 3) ends after
    // a round's seq 1, splitting the pair that shares a timestamp one microsecond after seq 0's: the next
    // page must start exactly there, neither at the millisecond (seq 0 again) nor after it (seq 2 lost).
    const id = await makeTarget(sql, '192.0.2.12')
    const base = Date.UTC(2025, 0, 2, 0, 0, 0)
    const rounds = Math.ceil((2 * PAGE_ROWS + 2) / 3)
    await sql`
      insert into samples (time, target_id, seq, rtt_us, ttl)
      select ${new Date(base)}::timestamptz + interval '1 millisecond' * g + interval '1 microsecond' * least(s, 1), ${id}, s, 1000 + g, 57
      from generate_series(0, ${rounds - 1}) g, generate_series(0, 2) s`
    const res = await t.app.inject({ url: `/targets/${id}/logs/export`, headers: t.viewer })
    const lines = res.body.trimEnd().split('\r\n').slice(1)
    const expected = Array.from({ length: rounds }, (_, g) => [0, 1, 2].map(() => `${new Date(base + g).toISOString()},${id},192.0.2.12,${(1000 + g) / 1000},7,0,default`)).flat()
    expect(PAGE_ROWS % 3).toBe(2)
    expect(lines).toHaveLength(expected.length)
    expect(lines).toEqual(expected)
  })

  it('closes the export when the client goes away mid-export', async () => {
    // Nothing is held between pages, so other queries answer at once (an open cursor would hold the
    // embedded engine's only backend until the multiplexer's idle-in-transaction timeout, 60 s).
    const port = await listen()
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ port, host: '127.0.0.1', path: `/targets/${big}/logs/export`, headers: t.viewer }, (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          if (bytes < 1_000_000 || req.destroyed) return
          req.destroy()
          resolve()
        })
      })
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)))
    })
    const t0 = performance.now()
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from samples where target_id = ${small}`
    expect(r!.n).toBe(samples.length)
    expect(performance.now() - t0).toBeLessThan(5000)
  }, 20_000)

  it('lists events newest first, limited', async () => {
    await sql`
      insert into events (target_id, type, message, actor, data, created_at)
      select ${small}, case when g % 2 = 0 then 'stop' else 'start' end, 'event ' || g, 'admin',
             jsonb_build_object('n', g), ${new Date(start)}::timestamptz + make_interval(mins => g)
      from generate_series(1, 5) g`
    await sql`insert into events (target_id, type, message, actor) values (${big}, 'created', 'other target', 'admin')`
    const res = await t.app.inject({ url: `/targets/${small}/events?limit=3`, headers: t.viewer })
    expect(res.statusCode).toBe(200)
    const events = res.json<{ id: number; target_id: number; event_type: string; message: string; actor: string; data: unknown; created_at: string }[]>()
    expect(events.map((e) => e.message)).toEqual(['event 5', 'event 4', 'event 3'])
    expect(events[0]).toEqual({
      id: expect.any(Number),
      target_id: small,
      event_type: 'start',
      message: 'event 5',
      actor: 'admin',
      data: { n: 5 },
      created_at: new Date(start + 5 * 60_000).toISOString(),
    })
    expect((await t.app.inject({ url: `/targets/${small}/events`, headers: t.viewer })).json()).toHaveLength(5)
    const bad = await t.app.inject({ url: `/targets/${small}/events?limit=1001`, headers: t.viewer })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['querystring', 'limit'])
  })
})
