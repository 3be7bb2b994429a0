// Proves that the network lab behaves as documented, with real ICMP from net-ping and the real
// traceroute binary. Needs root; see scripts/lab/README.md.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import pLimit from 'p-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Lab, startLab } from '../helpers/lab.js'

const run = promisify(execFile)

interface PingRequest {
  sent?: Date & { hr?: bigint }
}
interface PingSession {
  pingHost(target: string, callback: (error: Error | null, target: string, sent?: Date & { hr?: bigint }) => void): void
  onSocketSend(req: PingRequest, error: Error | null, bytes: number): void
  close(): void
}
interface NetPing {
  createSession(options: { sessionId: number; retries: number; timeout: number }): PingSession
  Session: { prototype: PingSession }
  RequestTimedOutError: new () => Error
  DestinationUnreachableError: new (source: string) => Error & { source: string }
}

const ping = createRequire(import.meta.url)('net-ping') as NetPing

interface PingResult {
  error: Error | null
  /** Send (after sendto) to receive, from hrtime; null on error. */
  rttMs: number | null
}

/**
 * A net-ping session whose RTTs come from hrtime stamps taken where net-ping takes its Dates (see
 * the research notes, section 6). Session ids are distinct per lab instance and purpose, because
 * every raw ICMP socket on the host sees every reply and net-ping matches on id and sequence only.
 */
function createTimedSession(lab: Lab, purpose: number, timeout: number) {
  const session = ping.createSession({ sessionId: 40_000 + lab.id * 16 + purpose, retries: 0, timeout })
  session.onSocketSend = function (req, error, bytes) {
    if (!req.sent) {
      const sent: Date & { hr?: bigint } = new Date()
      sent.hr = process.hrtime.bigint()
      req.sent = sent
    }
    ping.Session.prototype.onSocketSend.call(this, req, error, bytes)
  }
  const pingOnce = (target: string) =>
    new Promise<PingResult>((resolve) =>
      session.pingHost(target, (error, _target, sent) => {
        const received = process.hrtime.bigint()
        const rttMs = !error && sent?.hr !== undefined ? Number(received - sent.hr) / 1e6 : null
        resolve({ error, rttMs })
      }),
    )
  return { ping: pingOnce, close: () => session.close() }
}

/** False once the process has exited, including as a zombie that init has not reaped yet. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

const DELAY_MS = 20
const LOSS = 0.1
const SITE_DELAYS_MS = { a: 2, b: 7 }

describe('network lab', () => {
  let lab: Lab

  beforeAll(async () => {
    lab = await startLab(undefined, { delayMs: DELAY_MS, loss: LOSS, seed: 7, siteDelaysMs: SITE_DELAYS_MS })
  })

  afterAll(async () => {
    await lab?.stop()
  })

  it('silent host: every echo request times out', async () => {
    const session = createTimedSession(lab, 1, 500)
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => session.ping(lab.silent)))
      for (const { error } of results) expect(error).toBeInstanceOf(ping.RequestTimedOutError)
    } finally {
      session.close()
    }
  })

  it('unreachable route: the router answers destination-unreachable', async () => {
    // The kernel limits ICMP errors per source with net.ipv4.route.error_cost (a global sysctl we
    // leave alone): a burst of 5, then one per error_cost jiffies. The lab's router namespace is
    // fresh, so the first 5 probes get an answer; later ones may time out.
    const session = createTimedSession(lab, 2, 300)
    const results: PingResult[] = []
    try {
      for (let i = 0; i < 6; i++) {
        results.push(await session.ping(lab.unreachable))
        await sleep(50)
      }
    } finally {
      session.close()
    }
    // U: unreachable from the lab's router, T: timeout; anything else is shown as is.
    const outcomes = results
      .map(({ error }) => {
        if (error instanceof ping.DestinationUnreachableError && error.source === lab.unreachableRouter) return 'U'
        if (error instanceof ping.RequestTimedOutError) return 'T'
        return `[${error === null ? 'echo reply' : String(error)}]`
      })
      .join('')
    expect(outcomes).toMatch(/^U{5}[UT]$/)
  })

  it('router chain: traceroute shows the four hops', async () => {
    const { stdout } = await run('traceroute', ['-n', '-q', '1', '-w', '1', lab.chain.end], { timeout: 20_000 }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') throw new Error('traceroute is not installed (apt-get install -y traceroute)')
        throw error
      },
    )
    const hops = stdout
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(\S+)/.exec(line))
      .filter((match) => match !== null)
      .map((match) => ({ ttl: Number(match[1]), address: match[2] }))
    expect(hops).toEqual(lab.chain.hops.map((address, i) => ({ ttl: i + 1, address })))
  })

  it('lossy host: drops the configured share and answers after the configured delay', async () => {
    // Requests are paced, one per 2 ms (10 in flight): sent back to back, 200 requests queue behind
    // each other in raw-socket, one packet per event-loop turn, and the median RTT then measures that
    // queue (about 1-2 ms here) rather than the lab. At one per 0.5 ms the pinger and the responder
    // kept both cores busy, and with anything else running the median drifted by +0.3 to +0.65 ms
    // (CI: 20.49 ms); at 2 ms it stays at +0.17 ms with two busy loops beside it.
    const count = 2_000
    const intervalMs = 2
    const session = createTimedSession(lab, 3, 1_000)
    const limit = pLimit(200)
    const start = performance.now()
    let results: PingResult[]
    try {
      results = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          limit(async () => {
            const wait = start + i * intervalMs - performance.now()
            if (wait > 0) await sleep(wait)
            return session.ping(lab.lossy)
          }),
        ),
      )
    } finally {
      session.close()
    }
    const timeouts = results.filter((r) => r.error instanceof ping.RequestTimedOutError).length
    const otherErrors = results.filter((r) => r.error && !(r.error instanceof ping.RequestTimedOutError))
    const rtts = results.flatMap((r) => (r.rttMs === null ? [] : [r.rttMs]))
    const loss = timeouts / count
    const medianMs = median(rtts)
    console.log(
      `lossy host: ${count} echoes, loss ${(loss * 100).toFixed(2)} %, median RTT ${medianMs.toFixed(3)} ms, ` +
        `min ${Math.min(...rtts).toFixed(3)} ms, ${((performance.now() - start) / 1000).toFixed(2)} s`,
    )
    expect(otherErrors).toEqual([])
    expect(Math.abs(loss - LOSS)).toBeLessThanOrEqual(0.005)
    expect(Math.abs(medianMs - DELAY_MS)).toBeLessThanOrEqual(0.3)
  })

  it('sites: one host answers each site after that site\u2019s delay, and nothing else is reachable', async () => {
    const { host, a, b } = lab.sites
    expect([a.delayMs, b.delayMs]).toEqual([SITE_DELAYS_MS.a, SITE_DELAYS_MS.b])
    // Only from inside a site (the root namespace has no way there). fping -C prints each RTT (0.01 ms)
    // on stderr; both sites at once, so the responder serves two delays interleaved. Paced at 20 ms.
    const rtts = await Promise.all(
      [a, b].map(async (site) => {
        const { stderr } = await run('ip', ['netns', 'exec', site.ns, 'fping', '-C', '200', '-p', '20', '-q', host], { timeout: 30_000 })
        return (stderr.split(':')[1] ?? '').trim().split(/\s+/).map(Number)
      }),
    )
    const [medianA, medianB] = rtts.map((r) => median(r.filter((x) => Number.isFinite(x)))) as [number, number]
    console.log(`sites: median RTT from a ${medianA.toFixed(2)} ms, from b ${medianB.toFixed(2)} ms (200 echoes each)`)
    // No loss is configured here; yet one echo of the 200 went unanswered once in a CI run (2026-12-03,
    // cause not found), so one is allowed: this part is about the delays and the isolation.
    for (const r of rtts) expect(r.filter((x) => Number.isFinite(x)).length).toBeGreaterThanOrEqual(199)
    // Each median is the site's delay plus a base (fping, responder, wake-ups in this VM) of 0.1-0.3 ms
    // here, which differs between the sites by up to ~0.15 ms (measured 2.11 / 7.22, 2.27 / 7.31): the
    // difference of the delays shows within 0.3 ms, as in test/probe/sites.test.ts.
    expect(medianA).toBeGreaterThanOrEqual(a.delayMs)
    expect(medianB).toBeGreaterThanOrEqual(b.delayMs)
    expect(Math.max(medianA - a.delayMs, medianB - b.delayMs)).toBeLessThan(0.5)
    expect(Math.abs(medianB - medianA - (b.delayMs - a.delayMs))).toBeLessThanOrEqual(0.3)
    // No default route anywhere in the part: a site reaches its link and the host, nothing else.
    for (const ns of [a.ns, b.ns, `${lab.prefix}sh`]) {
      const { stdout } = await run('ip', ['-n', ns, 'route', 'show', 'default'])
      expect(stdout.trim(), ns).toBe('')
    }
    await expect(run('ip', ['netns', 'exec', a.ns, 'fping', '-c', '1', '-t', '200', '-q', b.address])).rejects.toThrow()
  })

  it('down removes every namespace, link and route of the instance', async () => {
    const pid = lab.lossyConfig.pid
    const sitesPid = lab.sites.pid
    await lab.stop()
    const [{ stdout: namespaces }, { stdout: links }, { stdout: routes }] = await Promise.all([
      run('ip', ['netns', 'list']),
      run('ip', ['-o', 'link', 'show']),
      run('ip', ['route', 'show']),
    ])
    const mine = (text: string) => text.split('\n').filter((line) => line.includes(lab.prefix))
    expect(mine(namespaces)).toEqual([])
    expect(mine(links)).toEqual([])
    // Routes through our links go with them; also look for our subnets on any other device.
    const nets = [lab.silent, lab.unreachable, lab.unreachableRouter, lab.lossy, ...lab.chain.hops, lab.sites.host, lab.sites.a.address, lab.sites.b.address].map(
      (address) => `${address.split('.').slice(0, 3).join('.')}.`,
    )
    nets.push(`10.202.${lab.id * 16}.0/20`)
    expect(routes.split('\n').filter((line) => line.includes(lab.prefix) || nets.some((n) => line.startsWith(n)))).toEqual([])
    expect(pid).toBeTypeOf('number')
    expect(isRunning(pid as number)).toBe(false)
    expect(sitesPid).toBeTypeOf('number')
    expect(isRunning(sitesPid as number)).toBe(false)
  })
})
