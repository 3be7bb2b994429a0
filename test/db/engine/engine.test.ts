import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEngineLock } from '../../../src/db/engine/lock.js'
import { type TestDatabase, openTestDatabase } from '../../helpers/db.js'

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const engineMain = path.join(here, '../../../src/db/engine/engine-main.ts')

describe('embedded engine process', () => {
  let db: TestDatabase

  beforeAll(async () => {
    db = await openTestDatabase({ engine: 'embedded', migrate: false })
    await db.sql`create table mux_counter (id int primary key, value int not null)`
    await db.sql`insert into mux_counter values (1, 0)`
    await db.sql`create table mux_log (client text, seq int, seen int)`
  })
  afterAll(() => db?.destroy())

  it('serves on a private Unix socket and records its owner in the lock file', () => {
    const lock = readEngineLock(db.dataDir)
    expect(lock?.pid).toBe(db.engine?.pid)
    expect(lock?.socket).toBe(db.engine?.socket)
  })

  it('refuses a second owner of the same data directory with a clear message', async () => {
    const err = await run(process.execPath, ['--import', 'tsx', engineMain, db.dataDir]).catch((e: { code: number; stderr: string }) => e)
    expect(err).toMatchObject({ code: 3 })
    expect((err as { stderr: string }).stderr).toContain(`is already in use by pingscope engine pid ${db.engine!.pid}`)
    // the rightful owner still serves
    const [row] = await db.sql`select count(*)::int as n from mux_counter`
    expect(row!.n).toBe(1)
  })

  it('runs interleaved transactions from several client processes without hanging or losing a row', async () => {
    const clients = ['a', 'b', 'c'].map(
      (id) =>
        new Promise<{ id: string; done: number }>((resolve, reject) => {
          const p = spawn(process.execPath, [path.join(here, '../../fixtures/tx-client.mjs'), db.engine!.socket, id, '150', '3'])
          let out = ''
          let err = ''
          p.stdout.on('data', (d) => (out += d))
          p.stderr.on('data', (d) => (err += d))
          const timer = setTimeout(() => p.kill('SIGKILL'), 50_000)
          p.on('exit', (code) => {
            clearTimeout(timer)
            if (code === 0) resolve(JSON.parse(out))
            else reject(new Error(`client ${id} exited ${code}: ${err}`))
          })
        }),
    )
    // this process takes part too, with its own pool
    const mine = Promise.all(
      Array.from({ length: 50 }, () =>
        db.sql.begin(async (tx) => {
          await tx`select value from mux_counter where id = 1 for update`
          await tx`insert into mux_log (client, seq, seen) values ('main', 0, 0)`
          await tx`update mux_counter set value = value + 1 where id = 1`
        }),
      ),
    )
    const results = await Promise.all(clients)
    await mine
    expect(results.map((r) => r.done)).toEqual([150, 150, 150])
    const [c] = await db.sql`select value from mux_counter where id = 1`
    const [l] = await db.sql`select count(*)::int as n, count(distinct (client, seq, seen))::int as distinct_rows from mux_log where client <> 'main'`
    expect(c!.value).toBe(500)
    expect(l!.n).toBe(450)
    // each transaction saw the counter value left by the previous one: no lost update
    const seen = await db.sql`select seen from mux_log where client <> 'main' order by seen`
    expect(new Set(seen.map((r) => r.seen)).size).toBe(450)
  })

  it('keeps a large answer intact while other clients query', async () => {
    // The engine's output buffer is reused for the next message: an answer larger than the socket
    // buffer must be copied before the socket holds on to it.
    const big = db.sql<{ g: number; s: string }[]>`select g, repeat('x', 2000) || g as s from generate_series(1, 4000) g`
    const others = Promise.all(Array.from({ length: 40 }, (_, i) => db.sql`select ${i}::int as i, repeat('y', 600000) as pad`))
    const [rows, small] = await Promise.all([big, others])
    expect(rows).toHaveLength(4000)
    for (const r of rows) expect(r.s).toBe('x'.repeat(2000) + r.g)
    small.forEach((r, i) => {
      expect(r[0]!.i).toBe(i)
      expect(r[0]!.pad).toBe('y'.repeat(600000))
    })
  })

  it('refuses a statement with more than 32,767 parameters and keeps working', async () => {
    const xs = Array.from({ length: 40_000 }, (_, i) => i)
    const text = `select array_length(array[${xs.map((_, i) => `$${i + 1}::int`).join(',')}], 1) as n`
    await expect(db.sql.unsafe(text, xs)).rejects.toMatchObject({ code: '54023', message: expect.stringContaining('at most 32767') })
    // inside a transaction the error fails the transaction, and nothing of it is kept
    await expect(
      db.sql.begin(async (tx) => {
        await tx`insert into mux_log (client, seq, seen) values ('oversized', 1, 1)`
        await tx.unsafe(text, xs)
      }),
    ).rejects.toMatchObject({ code: '54023' })
    const [kept] = await db.sql`select count(*)::int as n from mux_log where client = 'oversized'`
    expect(kept!.n).toBe(0)
    const ok = xs.slice(0, 32_767)
    const okText = `select array_length(array[${ok.map((_, i) => `$${i + 1}::int`).join(',')}], 1) as n`
    const [row] = await db.sql.unsafe(okText, ok)
    expect(row!.n).toBe(32_767)
  })

  it('rolls back what a client left open when it disconnects', async () => {
    const sql = postgres({ path: db.engine!.socket, user: 'postgres', database: 'postgres', prepare: false, max: 1, onnotice: () => {} })
    const reserved = await sql.reserve()
    await reserved`begin`
    await reserved`insert into mux_log (client, seq, seen) values ('abandoned', 1, 1)`
    reserved.release()
    await sql.end({ timeout: 0 })
    const [row] = await db.sql`select count(*)::int as n from mux_log where client = 'abandoned'`
    expect(row!.n).toBe(0)
  })

  it('is restarted by its supervisor when it dies, and clients carry on', async () => {
    const before = db.engine!.pid
    process.kill(before, 'SIGKILL')
    const deadline = Date.now() + 60_000
    let n: number | undefined
    while (Date.now() < deadline) {
      try {
        const [row] = await db.sql`select count(*)::int as n from mux_log`
        n = row!.n
        break
      } catch {
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    expect(n).toBe(500) // 450 from the client processes + 50 from this one
    expect(db.engine!.pid).not.toBe(before)
    expect(db.engine!.restarts).toBeGreaterThanOrEqual(1)
    expect(JSON.parse(readFileSync(path.join(db.dataDir, 'engine.lock'), 'utf8')).pid).toBe(db.engine!.pid)
  })
})
