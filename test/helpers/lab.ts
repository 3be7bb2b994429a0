// Starts and stops the network lab (scripts/lab/lab.sh) for tests. Each lab gets its own instance
// number (LAB_ID 1..15; 0 is left for manual use) so that test files running in parallel, or two
// test runs at once, never touch each other's namespaces and subnets.
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { z } from 'zod'

const run = promisify(execFile)

const LAB_SH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/lab/lab.sh')
const DEFAULT_STATE_DIR = '/run/pingscope-lab'
const FIRST_ID = 1
const LAST_ID = 15

export const LAB_PARTS = ['silent', 'unreachable', 'chain', 'lossy', 'sites'] as const
export type LabPart = (typeof LAB_PARTS)[number]

export interface LabOptions {
  /** Instance number 0..15; by default the first free one from 1 up. */
  id?: number
  /** Lossy host: reply delay in ms (default 20). */
  delayMs?: number
  /** Lossy host: fraction of echo requests dropped (default 0.10). */
  loss?: number
  /** Lossy host: drops are exact per block of this many requests (default 100). */
  lossBlock?: number
  /** Lossy host: PRNG seed for the drop positions inside each block (default 1). */
  seed?: number
  /** Sites host: reply delay in ms to echo requests from site a and from site b (default 2 and 7). */
  siteDelaysMs?: { a: number; b: number }
  stateDir?: string
}

const summarySchema = z.object({
  id: z.number().int(),
  prefix: z.string(),
  silent: z.string().nullable(),
  unreachable: z.string().nullable(),
  unreachableRouter: z.string().nullable(),
  chain: z.object({ end: z.string(), hops: z.array(z.string()) }).nullable(),
  lossy: z
    .object({
      address: z.string(),
      delayMs: z.number(),
      loss: z.number(),
      block: z.number().int(),
      seed: z.number().int(),
      pid: z.number().int().nullable(),
    })
    .nullable(),
  sites: z
    .object({
      host: z.string(),
      a: z.object({ ns: z.string(), address: z.string(), delayMs: z.number() }),
      b: z.object({ ns: z.string(), address: z.string(), delayMs: z.number() }),
      pid: z.number().int().nullable(),
    })
    .nullable(),
})
export type LabSummary = z.infer<typeof summarySchema>

export interface Lab {
  id: number
  /** Name prefix of this instance's namespaces and links, e.g. `psl3-`. */
  prefix: string
  /** A host that never answers (kernel echo replies disabled). */
  silent: string
  /** An address whose router answers ICMP destination-unreachable. */
  unreachable: string
  /** The router that sends those errors (`err.source` in net-ping). */
  unreachableRouter: string
  /** traceroute target and the four hops on the way, the end host last. */
  chain: { end: string; hops: string[] }
  /** A host answering after `lossyConfig.delayMs`, dropping `lossyConfig.loss` of the requests. */
  lossy: string
  lossyConfig: NonNullable<LabSummary['lossy']>
  /**
   * One host probed from two sites: `host` answers echo requests from namespace `a.ns` (address
   * `a.address`) after `a.delayMs` and from `b.ns` after `b.delayMs`. Only processes run in a site's
   * namespace (`ip netns exec <ns> …`) reach it.
   */
  sites: NonNullable<LabSummary['sites']>
  summary: LabSummary
  /**
   * Rebuilds some parts with other options (e.g. the lossy host's loss): the same addresses, after a
   * gap of about a second in which they do not answer.
   */
  rebuild(parts: readonly LabPart[], opts: Pick<LabOptions, 'delayMs' | 'loss' | 'lossBlock' | 'seed' | 'siteDelaysMs'>): Promise<void>
  /** Removes everything this lab created; safe to call twice. */
  stop(): Promise<void>
}

/** Throws a clear error unless this process can build network namespaces. */
export async function assertLabAvailable(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the network lab needs root (CAP_NET_ADMIN and CAP_NET_RAW); run the tests as root')
  }
  try {
    await run('ip', ['netns', 'list'])
  } catch (error) {
    throw new Error(`the network lab needs 'ip netns' (iproute2): ${(error as Error).message}`, { cause: error })
  }
}

/** Builds the given lab parts (all by default) in a fresh instance. Call `stop()` in `afterAll`. */
export async function startLab(parts: readonly LabPart[] = LAB_PARTS, opts: LabOptions = {}): Promise<Lab> {
  await assertLabAvailable()
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR
  const id = claimId(stateDir, opts.id)
  const env = labEnv(id, stateDir, opts)

  // Safety net for a worker that exits without running afterAll; synchronous because 'exit' is.
  const downOnExit = () => {
    try {
      execFileSync(LAB_SH, ['down'], { env, stdio: 'ignore', timeout: 30_000 })
    } finally {
      releaseId(stateDir, id)
    }
  }
  process.once('exit', downOnExit)

  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    process.removeListener('exit', downOnExit)
    try {
      await run(LAB_SH, ['down'], { env, timeout: 30_000 })
    } finally {
      releaseId(stateDir, id)
    }
  }

  let summary: LabSummary
  try {
    const { stdout } = await run(LAB_SH, ['up', ...parts], { env, timeout: 60_000 })
    summary = parseSummary(stdout)
  } catch (error) {
    await stop().catch(() => undefined)
    const stderr = (error as { stderr?: string }).stderr
    throw new Error(`lab.sh up ${parts.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`, {
      cause: error,
    })
  }
  const rebuild: Lab['rebuild'] = async (again, over) => {
    const { stdout } = await run(LAB_SH, ['up', ...again], { env: labEnv(id, stateDir, { ...opts, ...over }), timeout: 60_000 })
    // lab.sh's summary describes every part of the instance as it is now.
    Object.assign(summary, parseSummary(stdout))
  }
  return toLab(summary, stop, rebuild)
}

/** The JSON summary is the last line lab.sh prints on stdout. */
export function parseSummary(stdout: string): LabSummary {
  const last = stdout.trim().split('\n').at(-1) ?? ''
  return summarySchema.parse(JSON.parse(last))
}

function labEnv(id: number, stateDir: string, opts: LabOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LAB_ID: String(id), LAB_STATE_DIR: stateDir, LAB_NODE: process.execPath }
  if (opts.delayMs !== undefined) env.LAB_DELAY_MS = String(opts.delayMs)
  if (opts.loss !== undefined) env.LAB_LOSS = String(opts.loss)
  if (opts.lossBlock !== undefined) env.LAB_LOSS_BLOCK = String(opts.lossBlock)
  if (opts.seed !== undefined) env.LAB_SEED = String(opts.seed)
  if (opts.siteDelaysMs !== undefined) {
    env.LAB_SITE_A_DELAY_MS = String(opts.siteDelaysMs.a)
    env.LAB_SITE_B_DELAY_MS = String(opts.siteDelaysMs.b)
  }
  return env
}

function toLab(summary: LabSummary, stop: () => Promise<void>, rebuild: Lab['rebuild']): Lab {
  const need = <T>(value: T | null, part: LabPart): T => {
    if (value === null) throw new Error(`lab part '${part}' was not started (startLab([... '${part}']))`)
    return value
  }
  return {
    id: summary.id,
    prefix: summary.prefix,
    summary,
    stop,
    rebuild,
    get silent() {
      return need(summary.silent, 'silent')
    },
    get unreachable() {
      return need(summary.unreachable, 'unreachable')
    },
    get unreachableRouter() {
      return need(summary.unreachableRouter, 'unreachable')
    },
    get chain() {
      return need(summary.chain, 'chain')
    },
    get lossy() {
      return need(summary.lossy, 'lossy').address
    },
    get lossyConfig() {
      return need(summary.lossy, 'lossy')
    },
    get sites() {
      return need(summary.sites, 'sites')
    },
  }
}

// Instance numbers are claimed with mkdir (atomic) and hold the owner's pid, so a claim left by a
// killed process can be taken over. (Two processes taking over the same dead claim at the same
// instant could both win; lab.sh up would then rebuild under the first. Not worth a real lock.)
function claimId(stateDir: string, wanted?: number): number {
  const lockDir = path.join(stateDir, 'locks')
  mkdirSync(lockDir, { recursive: true })
  const candidates = wanted === undefined ? range(FIRST_ID, LAST_ID) : [wanted]
  for (const id of candidates) {
    const lock = path.join(lockDir, String(id))
    if (!tryLock(lock)) continue
    writeFileSync(path.join(lock, 'pid'), `${process.pid}\n`)
    return id
  }
  throw new Error(
    wanted === undefined
      ? `all lab instances ${FIRST_ID}..${LAST_ID} are in use (see ${lockDir})`
      : `lab instance ${wanted} is in use by another process (see ${lockDir}/${wanted})`,
  )
}

function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const owner = readOwner(lock)
  // A claim without a pid is being written right now, unless it is old.
  if (owner === null ? Date.now() - statSync(lock).mtimeMs < 10_000 : isAlive(owner)) return false
  rmSync(lock, { recursive: true, force: true })
  try {
    mkdirSync(lock)
    return true
  } catch {
    return false
  }
}

function releaseId(stateDir: string, id: number): void {
  const lock = path.join(stateDir, 'locks', String(id))
  if (readOwner(lock) === process.pid) rmSync(lock, { recursive: true, force: true })
}

function readOwner(lock: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(lock, 'pid'), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/**
 * A second way from the root namespace to the lab chain's end host: a new link root <-> r2 (inside the
 * instance's 10.202 /20, named with its prefix so `lab.stop()` sweeps it) and a /32 route over it. r3
 * and the end host already route the whole /20 back through r2. traceroute then sees 3 hops, the first
 * `via`. `remove()` takes the link (and its route) away again.
 */
export async function addChainShortcut(lab: Lab): Promise<{ via: string; link: string; remove(): Promise<void> }> {
  const r2 = `${lab.prefix}r2` // namespace names: scripts/lab/lab.sh
  const net = `10.202.${Number(lab.chain.hops[0]!.split('.')[2]) + 8}` // the instance's base /24 + 9
  const link = `${lab.prefix}alt`
  await run('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'alt0', 'netns', r2])
  await run('ip', ['addr', 'add', `${net}.1/24`, 'dev', link])
  await run('ip', ['link', 'set', link, 'up'])
  await run('ip', ['-n', r2, 'addr', 'add', `${net}.2/24`, 'dev', 'alt0'])
  await run('ip', ['-n', r2, 'link', 'set', 'alt0', 'up'])
  await run('ip', ['route', 'add', `${lab.chain.end}/32`, 'via', `${net}.2`, 'dev', link])
  return { via: `${net}.2`, link, remove: async () => void (await run('ip', ['link', 'del', link]).catch(() => undefined)) }
}
