import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { maskConfig, maskSecret } from '../../src/alerts/channels.service.js'
import { isSilenced, observeCondition, ruleTargets } from '../../src/alerts/conditions.js'
import { HISTOGRAM_BINS, binIndex } from '../../src/insights/histogram.js'
import {
  type NotificationItem,
  backoffMs,
  describeItem,
  emailMessage,
  groupBatch,
  signBody,
  slackBody,
  summarize,
  webhookBody,
} from '../../src/alerts/notify.js'

// The pure parts of alerting: grouping a channel's queue, the webhook signature, the retry backoff,
// what a notification says, secret masking, and judging a condition from rollup figures.

const S = 1000
const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * S)

function item(over: Partial<NotificationItem> = {}): NotificationItem {
  const base: Omit<NotificationItem, 'text'> = {
    dedupe_key: 'incident:1:fire:channel:1',
    transition: 'fire',
    incident_id: 1,
    severity: 'critical',
    rule: { id: 3, name: 'edge loss', condition: 'loss', threshold: 5, window_s: 300, unit: '%' },
    target: { id: 7, address: '192.0.2.7', name: 'edge-1', tags: ['edge'] },
    started_at: at(0).toISOString(),
    ended_at: null,
    value: 20,
    peak: 20,
    at: at(60).toISOString(),
    ...over,
  }
  return { ...base, text: describeItem(base) }
}

describe('grouping a channel queue into notifications', () => {
  const rows = [0, 10, 59, 60, 61, 200].map((s, i) => ({ id: i, createdAt: at(s) }))

  it('takes the oldest row and those created within the window after it, as a prefix', () => {
    expect(groupBatch(rows, 60 * S, 100).map((r) => r.id)).toEqual([0, 1, 2])
    expect(groupBatch(rows.slice(3), 60 * S, 100).map((r) => r.id)).toEqual([3, 4])
    expect(groupBatch(rows.slice(5), 60 * S, 100).map((r) => r.id)).toEqual([5])
    expect(groupBatch([], 60 * S, 100)).toEqual([])
  })

  it('caps a batch and never reorders: a late row with an early time stays behind', () => {
    expect(groupBatch(rows, 60 * S, 2).map((r) => r.id)).toEqual([0, 1])
    const skewed = [{ id: 1, createdAt: at(0) }, { id: 2, createdAt: at(120) }, { id: 3, createdAt: at(5) }]
    expect(groupBatch(skewed, 60 * S, 100).map((r) => r.id)).toEqual([1])
  })
})

describe('webhook signature and backoff', () => {
  it('signs the raw body with HMAC-SHA256 under the channel secret', () => {
    const body = JSON.stringify(webhookBody({ id: 1, name: 'noc' }, [item()], at(61)))
    const expected = createHmac('sha256', 'a-secret-of-16-chars').update(Buffer.from(body, 'utf8')).digest('hex')
    expect(signBody(body, 'a-secret-of-16-chars')).toBe(`sha256=${expected}`)
    expect(signBody(body, 'another-secret-16')).not.toBe(`sha256=${expected}`)
    expect(signBody(`${body} `, 'a-secret-of-16-chars')).not.toBe(`sha256=${expected}`)
    // a known vector (RFC 4231 test case 2)
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  })

  it('doubles the wait after each failure up to the cap', () => {
    const b = { baseMs: 5 * S, capMs: 300 * S }
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, b) / S)).toEqual([5, 10, 20, 40, 80, 160, 300, 300])
    expect(backoffMs(10_000, b)).toBe(300 * S)
    expect(backoffMs(0, b)).toBe(5 * S)
  })
})

describe('what a notification says', () => {
  it('describes fires and resolves of each condition in one line', () => {
    expect(item().text).toBe('FIRING [critical] edge-1 (192.0.2.7): loss 20.0 % ≥ 5.0 % over 5 min (rule "edge loss")')
    const resolved = item({ transition: 'resolve', value: null, peak: 25, ended_at: at(420).toISOString() })
    expect(resolved.text).toBe('RESOLVED [critical] edge-1 (192.0.2.7): loss back under 5.0 % after 7 min, peak 25.0 % (rule "edge loss")')
    const outage = item({ rule: { id: 4, name: 'down', condition: 'outage', threshold: null, window_s: 300, unit: 's' }, value: 75, target: { id: 8, address: '192.0.2.8', name: null, tags: [] } })
    expect(outage.text).toBe('FIRING [critical] 192.0.2.8: outage for 75 s (rule "down")')
    const p95 = item({ rule: { id: 5, name: 'slow', condition: 'latency_p95', threshold: 50, window_s: 600, unit: 'ms' }, value: 61.234 })
    expect(p95.text).toBe('FIRING [critical] edge-1 (192.0.2.7): p95 latency 61.23 ms ≥ 50.00 ms over 10 min (rule "slow")')
    const path = { rule: { id: 6, name: 'path', condition: 'path_change' as const, threshold: 1, window_s: 900, unit: 'changes' }, value: 2 }
    expect(item(path).text).toBe('FIRING [critical] edge-1 (192.0.2.7): path changed 2 changes ≥ 1 change over 15 min (rule "path")')
    expect(item({ ...path, transition: 'resolve', value: null, peak: 3, ended_at: at(1800).toISOString() }).text).toBe(
      'RESOLVED [critical] edge-1 (192.0.2.7): path stable for 15 min after 30 min, peak 3 changes (rule "path")',
    )
    const probe = { rule: { id: 7, name: 'unprobed', condition: 'probe_missing' as const, threshold: null, window_s: 300, unit: 's' }, value: 95.4 }
    expect(item(probe).text).toBe('FIRING [critical] edge-1 (192.0.2.7): no live probe for 95 s (rule "unprobed")')
    expect(item({ ...probe, value: null }).text).toBe('FIRING [critical] edge-1 (192.0.2.7): no live probe (rule "unprobed")')
    expect(item({ ...probe, transition: 'resolve', value: null, peak: 130, ended_at: at(300).toISOString() }).text).toBe(
      'RESOLVED [critical] edge-1 (192.0.2.7): probed again after 5 min, peak 130 s (rule "unprobed")',
    )
  })

  it('composes one message for a batch: summary, Slack text, email subject', () => {
    const items = [item(), item({ incident_id: 2, target: { id: 9, address: '192.0.2.9', name: 'edge-2', tags: [] } }), item({ transition: 'resolve', value: null })]
    expect(summarize(items)).toBe('2 firing, 1 resolved')
    const body = webhookBody({ id: 3, name: 'noc' }, items, at(90))
    expect(body).toMatchObject({ version: 1, source: 'pingscope', channel: { id: 3, name: 'noc' }, sent_at: at(90).toISOString(), summary: '2 firing, 1 resolved' })
    expect(body.items).toHaveLength(3)
    expect(slackBody(items).text.split('\n')).toEqual(['*pingscope*: 2 firing, 1 resolved', ...items.map((i) => `• ${i.text}`)])
    expect(emailMessage(items).subject).toBe('[pingscope] 2 firing, 1 resolved')
    expect(emailMessage([items[0]!]).subject).toBe(`[pingscope] ${items[0]!.text}`)
    expect(emailMessage(items).text).toContain('incident 2, started')
  })
})

describe('secrets in channel answers', () => {
  it('masks webhook secrets and URL credentials, Slack URLs and SMTP passwords', () => {
    expect(maskSecret('0123456789abcdefWXYZ')).toBe('****WXYZ')
    expect(maskSecret('short')).toBe('****')
    expect(maskConfig('webhook', { url: 'https://h.example/p', secret: 'x'.repeat(40) })).toEqual({ url: 'https://h.example/p', secret: '****xxxx' })
    expect(maskConfig('slack', { url: 'https://hooks.slack.com/services/T1/B2/secretpart' })).toEqual({ url: 'https://hooks.slack.com/****part' })
    expect(maskConfig('email', { host: 'h', password: 'p', to: ['a@b.c'] })).toEqual({ host: 'h', password: '****', to: ['a@b.c'] })
  })
})

describe('judging a condition', () => {
  const hist = (rtts: number[]) => {
    const h = new Array<number>(HISTOGRAM_BINS).fill(0)
    for (const r of rtts) h[binIndex(r)]! += 1
    return h
  }

  it('computes loss, latency percentiles and outage duration, and says when there is nothing to judge', () => {
    const stats = { sent: 100, received: 80, histogram: hist([...Array(80)].map((_, i) => (i < 72 ? 10_000 : 100_000))) }
    expect(observeCondition({ condition: 'loss', threshold: 20 }, 5, { stats, outageStart: undefined })).toEqual({ at: 5, met: true, value: 20 })
    expect(observeCondition({ condition: 'loss', threshold: 20.1 }, 5, { stats, outageStart: undefined }).met).toBe(false)
    expect(observeCondition({ condition: 'loss', threshold: 5 }, 5, { stats: undefined, outageStart: undefined }).met).toBeNull()
    const p50 = observeCondition({ condition: 'latency_p50', threshold: 50 }, 5, { stats, outageStart: undefined })
    expect(p50.met).toBe(false)
    expect(p50.value).toBeGreaterThan(10 * 0.725)
    expect(p50.value).toBeLessThan(10 * 1.275)
    const p95 = observeCondition({ condition: 'latency_p95', threshold: 50 }, 5, { stats, outageStart: undefined })
    expect(p95.met).toBe(true)
    // a silent host: loss 100 %, latency unknown
    const silent = { sent: 10, received: 0, histogram: hist([]) }
    expect(observeCondition({ condition: 'latency_p95', threshold: 1 }, 5, { stats: silent, outageStart: undefined }).met).toBeNull()
    expect(observeCondition({ condition: 'loss', threshold: 5 }, 5, { stats: silent, outageStart: undefined })).toMatchObject({ met: true, value: 100 })
    expect(observeCondition({ condition: 'outage', threshold: null }, 90_000, { stats: undefined, outageStart: new Date(15_000) })).toEqual({ at: 90_000, met: true, value: 75 })
    expect(observeCondition({ condition: 'outage', threshold: null }, 90_000, { stats: undefined, outageStart: undefined })).toEqual({ at: 90_000, met: false, value: null })
  })

  it('counts path changes in the window against the threshold, and judges probe cover by the leases', () => {
    const none = { stats: undefined, outageStart: undefined }
    expect(observeCondition({ condition: 'path_change', threshold: 1 }, 5, { ...none, pathChanges: undefined })).toEqual({ at: 5, met: false, value: 0 })
    expect(observeCondition({ condition: 'path_change', threshold: 1 }, 5, { ...none, pathChanges: 1 })).toEqual({ at: 5, met: true, value: 1 })
    expect(observeCondition({ condition: 'path_change', threshold: 3 }, 5, { ...none, pathChanges: 2 }).met).toBe(false)
    expect(observeCondition({ condition: 'path_change', threshold: null }, 5, { ...none, pathChanges: 1 }).met).toBe(true)
    expect(observeCondition({ condition: 'probe_missing', threshold: null }, 90_000, { ...none, cover: { held: true, lastExpiry: new Date(95_000) } })).toEqual({ at: 90_000, met: false, value: null })
    expect(observeCondition({ condition: 'probe_missing', threshold: null }, 90_000, { ...none, cover: { held: false, lastExpiry: new Date(30_000) } })).toEqual({ at: 90_000, met: true, value: 60 })
    expect(observeCondition({ condition: 'probe_missing', threshold: null }, 90_000, { ...none, cover: { held: false, lastExpiry: null } })).toEqual({ at: 90_000, met: true, value: null })
    // a target the lease query did not return (deleted meanwhile): nothing to judge
    expect(observeCondition({ condition: 'probe_missing', threshold: null }, 90_000, none).met).toBeNull()
  })

  it('scopes rules to a target, a tag or all, never paused targets; matches silences by target or tag', () => {
    const targets = [
      { id: 1, address: 'a', name: null, tags: ['edge'], enabled: true },
      { id: 2, address: 'b', name: null, tags: ['edge', 'core'], enabled: true },
      { id: 3, address: 'c', name: null, tags: ['edge'], enabled: false },
    ]
    expect(ruleTargets({ scope: 'all', targetId: null, tag: null }, targets).map((t) => t.id)).toEqual([1, 2])
    expect(ruleTargets({ scope: 'tag', targetId: null, tag: 'core' }, targets).map((t) => t.id)).toEqual([2])
    expect(ruleTargets({ scope: 'target', targetId: 3, tag: null }, targets)).toEqual([])
    expect(isSilenced(targets[0]!, [{ targetId: null, tag: 'core' }])).toBe(false)
    expect(isSilenced(targets[1]!, [{ targetId: null, tag: 'core' }])).toBe(true)
    expect(isSilenced(targets[0]!, [{ targetId: 1, tag: null }])).toBe(true)
  })
})
