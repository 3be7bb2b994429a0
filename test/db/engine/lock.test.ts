import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DataDirInUseError, LOCK_FILE, acquireEngineLock, engineSocketPath, readEngineLock } from '../../../src/db/engine/lock.js'

describe('engine lock', () => {
  const dirs: string[] = []
  const tempDir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'pingscope-lock-'))
    dirs.push(d)
    return d
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('names its owner, refuses a second one and is released by its holder', () => {
    const dir = tempDir()
    const release = acquireEngineLock(dir, '/tmp/x.sock')
    expect(readEngineLock(dir)).toMatchObject({ pid: process.pid, socket: '/tmp/x.sock' })
    expect(() => acquireEngineLock(dir, '/tmp/y.sock')).toThrow(DataDirInUseError)
    release()
    expect(readEngineLock(dir)).toBeNull()
  })

  it('takes over a lock left by a dead process', () => {
    const dir = tempDir()
    // pid 2^22 + 1 is above Linux's pid_max, so no process has it
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 4_194_305, socket: 's', startedAt: '' }))
    expect(readEngineLock(dir)).toBeNull()
    acquireEngineLock(dir, 'mine')
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid })
  })

  it('puts the socket of a deep data directory in the temp dir (sun_path holds 108 bytes)', () => {
    expect(engineSocketPath('/srv/data')).toBe('/srv/data/.s.PGSQL.pingscope')
    const deep = engineSocketPath(`/srv/${'d'.repeat(120)}`)
    expect(deep.startsWith(os.tmpdir())).toBe(true)
    expect(deep).toBe(engineSocketPath(`/srv/${'d'.repeat(120)}`))
  })
})
