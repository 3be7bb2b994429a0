import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Sql } from '../../src/db/open.js'
import { createIcmpPinger } from '../../src/probe/icmp.js'
import { type RoundSummary, createScheduler } from '../../src/probe/scheduler.js'
import { createWriter } from '../../src/probe/writer.js'
import { testLog } from './db.js'
import { ROOT } from './process.js'

const run = promisify(execFile)

/** Runs SQL in a separate process, as another pingscope process (API, CLI) would. */
export async function sqlFromOtherProcess(socket: string, ...statements: string[]): Promise<unknown[]> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'test/fixtures/sql-client.mjs'), socket, ...statements])
  return JSON.parse(stdout) as unknown[]
}

export interface ProbeHarness {
  rounds: (RoundSummary & { at: number })[]
  scheduler: ReturnType<typeof createScheduler>
  writer: ReturnType<typeof createWriter>
  stop(): Promise<void>
}

/** The real probe engine (raw ICMP, batched writer, scheduler) on a test database. */
export async function startProbe(sql: Sql, opts: Partial<Parameters<typeof createScheduler>[0]> = {}): Promise<ProbeHarness> {
  const pinger = createIcmpPinger()
  const writer = createWriter({ sql, log: testLog, flushMs: 200 })
  const rounds: (RoundSummary & { at: number })[] = []
  const scheduler = createScheduler({
    sql,
    log: testLog,
    pinger,
    writer,
    reloadMs: 500,
    ...opts,
    onRound: (r) => rounds.push({ ...r, at: Date.now() }),
  })
  await scheduler.start()
  return {
    rounds,
    scheduler,
    writer,
    async stop() {
      await scheduler.stop()
      await writer.stop()
      pinger.close()
    },
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
