import { createHash } from 'node:crypto'
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// One engine process owns a data directory: two processes opening the same PGlite directory lose rows
// silently. The owner holds `engine.lock` (created with O_EXCL) naming its pid and socket.

export interface EngineLock {
  pid: number
  socket: string
  startedAt: string
}

export const LOCK_FILE = 'engine.lock'

/** Exit code of an engine that found its data directory owned by another live process. */
export const EXIT_LOCKED = 3

/** Where the engine for `dataDir` listens; stable, so clients reconnect after a restart. */
export function engineSocketPath(dataDir: string): string {
  const inDir = path.join(dataDir, '.s.PGSQL.pingscope')
  // sun_path holds 108 bytes; deep data directories get a socket in the temp dir instead.
  if (Buffer.byteLength(inDir) <= 100) return inDir
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)
  return path.join(os.tmpdir(), `pingscope-${hash}.sock`)
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The live owner of `dataDir`, or null if there is none (a stale lock counts as none). */
export function readEngineLock(dataDir: string): EngineLock | null {
  try {
    const lock = JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')) as EngineLock
    return isAlive(lock.pid) ? lock : null
  } catch {
    return null
  }
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: EngineLock,
  ) {
    super(`data directory ${dataDir} is already in use by pingscope engine pid ${owner.pid} (since ${owner.startedAt})`)
    this.name = 'DataDirInUseError'
  }
}

/** Takes the lock or throws DataDirInUseError; a lock left by a dead process is taken over. */
export function acquireEngineLock(dataDir: string, socket: string): () => void {
  const file = path.join(dataDir, LOCK_FILE)
  const lock: EngineLock = { pid: process.pid, socket, startedAt: new Date().toISOString() }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeFileSync(fd, JSON.stringify(lock))
      closeSync(fd)
      return () => {
        try {
          const held = JSON.parse(readFileSync(file, 'utf8')) as EngineLock
          if (held.pid === process.pid) unlinkSync(file)
        } catch {
          // already gone
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = readEngineLock(dataDir)
      if (owner) throw new DataDirInUseError(dataDir, owner)
      try {
        unlinkSync(file) // stale: its process is gone
      } catch {
        // another process removed it first
      }
    }
  }
  const owner = readEngineLock(dataDir)
  throw owner ? new DataDirInUseError(dataDir, owner) : new Error(`could not lock ${file}`)
}
