// The traceroute parser against output captured from the real binary (test/fixtures/traceroute/README.md
// says how each file was made): exact hops, the header's destination, and the path summary.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type TracerouteHop, hashPath, parseTraceroute, summarisePath } from '../../src/traceroute/parse.js'
import { probeWaitSeconds, tracerouteArgs } from '../../src/traceroute/runner.js'

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/traceroute')
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8')

/** An answered hop as printed with -n (host = address); one probe unless its answered times are given. */
const ok = (hop: number, ip: string, rttMs: number, raw: string, rttsMs = [rttMs], sent = rttsMs.length): TracerouteHop => ({ hop, host: ip, ip, rttMs, isTimeout: false, sent, rttsMs, raw })
/** A hop whose probes (one unless the line shows more) all went unanswered. */
const star = (hop: number, raw = `${hop}  *`): TracerouteHop => ({ hop, host: null, ip: null, rttMs: null, isTimeout: true, sent: raw.split('*').length - 1, rttsMs: [], raw })
const stars = (from: number, to: number, raw?: string) => Array.from({ length: to - from + 1 }, (_, i) => star(from + i, raw?.replace('#', String(from + i))))

const CHAIN = ['10.202.17.2', '10.202.18.2', '10.202.19.2', '10.202.20.2']
const END = '10.202.20.2'

describe('parseTraceroute', () => {
  it('reads the lab chain as the runner runs it (-n -q 1): header skipped, four hops', () => {
    expect(parseTraceroute(fixture('lab-chain.txt'))).toEqual({
      destination: END,
      hops: [
        ok(1, '10.202.17.2', 0.048, '1  10.202.17.2  0.048 ms'),
        ok(2, '10.202.18.2', 0.024, '2  10.202.18.2  0.024 ms'),
        ok(3, '10.202.19.2', 0.024, '3  10.202.19.2  0.024 ms'),
        ok(4, '10.202.20.2', 0.022, '4  10.202.20.2  0.022 ms'),
      ],
    })
  })

  it('takes the first probe of three and keeps the line as raw', () => {
    expect(parseTraceroute(fixture('lab-chain-q3.txt')).hops).toEqual([
      ok(1, '10.202.17.2', 0.051, '1  10.202.17.2  0.051 ms  0.006 ms  0.004 ms', [0.051, 0.006, 0.004]),
      ok(2, '10.202.18.2', 0.011, '2  10.202.18.2  0.011 ms  0.007 ms  0.007 ms', [0.011, 0.007, 0.007]),
      ok(3, '10.202.19.2', 0.014, '3  10.202.19.2  0.014 ms  0.009 ms  0.009 ms', [0.014, 0.009, 0.009]),
      ok(4, '10.202.20.2', 0.016, '4  10.202.20.2  0.016 ms  0.010 ms  0.010 ms', [0.016, 0.01, 0.01]),
    ])
  })

  it('keeps the first responding address when one hop line holds several (ECMP)', () => {
    expect(parseTraceroute(fixture('lab-ecmp-q5.txt')).hops).toEqual([
      ok(1, '10.202.18.2', 0.024, '1  10.202.18.2  0.024 ms  0.006 ms 10.202.26.2  0.008 ms  0.005 ms  0.005 ms', [0.024, 0.006, 0.008, 0.005, 0.005]),
      ok(2, '10.202.20.2', 0.013, '2  10.202.20.2  0.013 ms 10.202.19.2  0.009 ms  0.007 ms 10.202.20.2  0.007 ms 10.202.19.2  0.008 ms', [0.013, 0.009, 0.007, 0.007, 0.008]),
    ])
  })

  it('counts every probe of a hop, answered or not, for per-hop loss', () => {
    const out = ['traceroute to 10.0.0.9 (10.0.0.9), 30 hops max, 60 byte packets', ' 1  10.0.0.1  0.512 ms *  0.731 ms', ' 2  * * *', ' 3  10.0.0.9  1.2 ms !H  1.4 ms  *'].join('\n')
    expect(parseTraceroute(out).hops).toEqual([
      ok(1, '10.0.0.1', 0.512, '1  10.0.0.1  0.512 ms *  0.731 ms', [0.512, 0.731], 3),
      star(2, '2  * * *'),
      ok(3, '10.0.0.9', 1.2, '3  10.0.0.9  1.2 ms !H  1.4 ms  *', [1.2, 1.4], 3),
    ])
  })

  it('reads timeouts (*) as hops without address', () => {
    expect(parseTraceroute(fixture('lab-blackhole.txt'))).toEqual({
      destination: END,
      hops: [ok(1, '10.202.17.2', 0.033, '1  10.202.17.2  0.033 ms'), ok(2, '10.202.18.2', 0.019, '2  10.202.18.2  0.019 ms'), ...stars(3, 6)],
    })
  })

  it('reads !H, !N and !X annotations without losing address or time', () => {
    expect(parseTraceroute(fixture('lab-unreachable.txt')).hops).toEqual([
      ok(1, '10.202.17.2', 0.022, '1  10.202.17.2  0.022 ms'),
      ok(2, '10.202.18.2', 0.013, '2  10.202.18.2  0.013 ms !H'),
    ])
    expect(parseTraceroute(fixture('lab-throw.txt')).hops).toEqual([
      ok(1, '10.202.17.2', 0.03, '1  10.202.17.2  0.030 ms'),
      ...stars(2, 17),
      ok(18, '10.202.18.2', 0.052, '18  10.202.18.2  0.052 ms !N'),
    ])
    expect(parseTraceroute(fixture('lab-prohibit.txt')).hops).toEqual([
      ok(1, '10.202.17.2', 0.025, '1  10.202.17.2  0.025 ms'),
      ...stars(2, 17),
      ok(18, '10.202.18.2', 0.035, '18  10.202.18.2  0.035 ms !X'),
    ])
  })

  it('counts a hop as answered when any probe is, with timeouts around it', () => {
    expect(parseTraceroute(fixture('lab-prohibit-q3.txt')).hops).toEqual([
      ok(1, '10.202.17.2', 0.035, '1  10.202.17.2  0.035 ms  0.010 ms  0.006 ms', [0.035, 0.01, 0.006]),
      ...stars(2, 6, '#  * * *'),
      ok(7, '10.202.18.2', 0.044, '7  * 10.202.18.2  0.044 ms !X *', [0.044], 3),
    ])
  })

  it('reads IPv6 loopback (traceroute -n -6 ::1)', () => {
    expect(parseTraceroute(fixture('loopback-v6.txt'))).toEqual({
      destination: '::1',
      hops: [ok(1, '::1', 0.469, '1  ::1  0.469 ms  0.399 ms  0.388 ms', [0.469, 0.399, 0.388])],
    })
  })

  it('reads the name (address) form without -n, with IPv6 addresses', () => {
    expect(parseTraceroute(fixture('synthetic-named.txt'))).toEqual({
      destination: '2001:db8:20::7',
      hops: [
        { hop: 1, host: 'router.lan', ip: '2001:db8::1', rttMs: 1.111, isTimeout: false, sent: 1, rttsMs: [1.111], raw: '1  router.lan (2001:db8::1)  1.111 ms' },
        star(2),
        { hop: 3, host: 'core1.example.net', ip: '2001:db8:10::1', rttMs: 5.432, isTimeout: false, sent: 1, rttsMs: [5.432], raw: '3  core1.example.net (2001:db8:10::1)  5.432 ms !H' },
      ],
    })
  })

  it('returns no hops for empty or foreign output', () => {
    expect(parseTraceroute('')).toEqual({ destination: null, hops: [] })
    expect(parseTraceroute('connect: Network is unreachable\n')).toEqual({ destination: null, hops: [] })
  })
})

describe('summarisePath', () => {
  const summary = (name: string, target = END) => summarisePath(parseTraceroute(fixture(name)), target)

  it('counts hops to the target and hashes the answering addresses', () => {
    expect(summary('lab-chain.txt')).toEqual({ reached: true, hopCount: 4, path: CHAIN, pathHash: hashPath(CHAIN) })
    // Three probes per hop or one: the same path.
    expect(summary('lab-chain-q3.txt').pathHash).toBe(summary('lab-chain.txt').pathHash)
  })

  it('sees another route to the same end as another path', () => {
    const alt = summary('lab-alt-path.txt')
    expect(alt).toMatchObject({ reached: true, hopCount: 3, path: ['10.202.25.2', '10.202.19.2', END] })
    expect(alt.pathHash).not.toBe(summary('lab-chain.txt').pathHash)
  })

  it('counts to the last hop printed when the target is not reached', () => {
    expect(summary('lab-blackhole.txt')).toEqual({
      reached: false,
      hopCount: 6,
      path: ['10.202.17.2', '10.202.18.2', null, null, null, null],
      pathHash: hashPath(['10.202.17.2', '10.202.18.2']),
    })
    expect(summary('lab-unreachable.txt')).toMatchObject({ reached: false, hopCount: 2 })
    expect(summary('lab-prohibit.txt')).toMatchObject({ reached: false, hopCount: 18 })
  })

  it('stops at the hop that reached the target', () => {
    expect(summary('lab-ecmp-q5.txt')).toMatchObject({ reached: true, hopCount: 2, path: ['10.202.18.2', END] })
    expect(summary('loopback-v6.txt', '::1')).toMatchObject({ reached: true, hopCount: 1, path: ['::1'] })
    expect(summarisePath({ destination: null, hops: [] }, END)).toEqual({ reached: false, hopCount: 0, path: [], pathHash: hashPath([]) })
  })

  it('compares and hashes IPv6 addresses case-insensitively', () => {
    expect(hashPath(['2001:DB8::1', null])).toBe(hashPath(['2001:db8::1']))
    expect(summarisePath({ destination: null, hops: [ok(1, '2001:db8::7', 1, '')] }, '2001:DB8::7').reached).toBe(true)
  })
})

describe('tracerouteArgs', () => {
  it('never resolves names, sends one probe per hop, and ends options before the address', () => {
    expect(tracerouteArgs({ address: '10.202.20.2', maxHops: 20, timeoutMs: 25_000 })).toEqual(['-n', '-q', '1', '-w', '5', '-m', '20', '--', '10.202.20.2'])
    expect(tracerouteArgs({ address: '::1', maxHops: 5, timeoutMs: 2_000 })).toEqual(['-n', '-q', '1', '-w', '0.5', '-m', '5', '-6', '--', '::1'])
  })

  it('shortens the per-probe wait for short timeouts', () => {
    expect(probeWaitSeconds(120_000)).toBe(5)
    expect(probeWaitSeconds(1_000)).toBe(0.25)
  })
})
