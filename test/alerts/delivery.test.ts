import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createEvaluator } from '../../src/alerts/evaluator.js'
import type { WebhookBody } from '../../src/alerts/notify.js'
import { claimChannel } from '../../src/alerts/outbox.repo.js'
import { createSender } from '../../src/alerts/sender.js'
import { freePort } from '../../scripts/lib/free-port.js'
import { type TestDatabase, openTestDatabase, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { MIN, S, baseTime, clearAlerts, makeChannel, makeRule, makeTarget, setOutage } from './helpers.js'
import { type HttpReceiver, type SmtpReceiver, startHttpReceiver, startSmtpReceiver } from './receivers.js'

// Notifications from the outbox to real receivers on loopback: a webhook whose signature the receiver
// checks, a Slack-compatible webhook and an SMTP server. The evaluator and the sender share one
// injected clock, so hours of alerting run in seconds; only the deliveries are real.

const SECRET = 'receiver-shared-secret-0123456789'

describe.each(ENGINES)('notification delivery (%s engine)', (engine) => {
  let db: TestDatabase
  const open: { close(): Promise<void> }[] = []
  beforeAll(async () => {
    db = await openTestDatabase({ engine })
  })
  afterAll(() => db?.destroy())
  beforeEach(() => clearAlerts(db.sql))
  afterEach(async () => {
    for (const r of open.splice(0)) await r.close()
  })
  const http = async (port: number) => {
    const r = await startHttpReceiver(port, SECRET)
    open.push(r)
    return r
  }
  const smtp = async (port: number) => {
    const r = await startSmtpReceiver(port)
    open.push(r)
    return r
  }
  const hookBodies = (r: HttpReceiver, path = '/hook') => r.requests.filter((q) => q.path === path && q.status === 200).map((q) => JSON.parse(q.body) as WebhookBody)

  it('delivers a burst of outages across a site as one signed webhook, one Slack message and one email per channel', async () => {
    const [httpPort, smtpPort] = [await freePort(), await freePort()]
    const receiver = await http(httpPort)
    const mail = await smtp(smtpPort)
    const hook = await makeChannel(db.sql, 'hook', 'webhook', { url: `http://127.0.0.1:${httpPort}/hook`, secret: SECRET })
    const slack = await makeChannel(db.sql, 'slack', 'slack', { url: `http://127.0.0.1:${httpPort}/slack` })
    const email = await makeChannel(db.sql, 'mail', 'email', { host: '127.0.0.1', port: smtpPort, tls: 'none', from: 'pingscope@example.com', to: ['noc@example.com', 'oncall@example.com'] })
    const site: number[] = []
    for (const i of [1, 2, 3, 4, 5, 6]) site.push(await makeTarget(db.sql, `127.0.30.${i}`, ['site-a'], `site-a-${i}`))
    await makeRule(db.sql, { name: 'site-a down', scope: 'tag', tag: 'site-a', condition: 'outage', for_s: 0, recover_s: 0, severity: 'critical', channel_ids: [hook, slack, email] })
    const T = baseTime(3)
    let clock = T
    const evaluator = createEvaluator({ sql: db.sql, log: testLog, now: () => clock, groupWaitMs: 20 * S })
    const sender = createSender({ sql: db.sql, log: testLog, now: () => clock })
    const at = async (ms: number, work: () => Promise<void> = async () => {}) => {
      clock = T + ms
      await work()
      await evaluator.tick()
      await sender.tick()
    }

    // The uplink fails: four outages open in one pass, two more in the next.
    await at(0, async () => { for (const id of site.slice(0, 4)) await setOutage(db.sql, id, true, T) })
    await at(10 * S, async () => { for (const id of site.slice(4)) await setOutage(db.sql, id, true, T + 10 * S) })
    expect(receiver.requests).toHaveLength(0) // waiting for the group to fill
    await at(20 * S)
    await at(30 * S)
    // Back three minutes later: six resolves, again one notification per channel.
    await at(3 * MIN, async () => { for (const id of site) await setOutage(db.sql, id, false, T + 3 * MIN) })
    await at(3 * MIN + 20 * S)

    const hooks = receiver.requests.filter((q) => q.path === '/hook')
    expect(hooks).toHaveLength(2)
    for (const q of hooks) {
      expect(q.signatureValid).toBe(true)
      expect(q.headers['content-type']).toBe('application/json')
      const body = JSON.parse(q.body) as WebhookBody
      expect(q.headers['x-pingscope-timestamp']).toBe(String(Math.floor(Date.parse(body.sent_at) / 1000)))
    }
    const [fired, resolved] = hookBodies(receiver)
    expect(fired).toMatchObject({ version: 1, source: 'pingscope', channel: { id: hook, name: 'hook' }, summary: '6 firing' })
    expect(fired!.items.map((i) => i.target.name)).toEqual(site.map((_, i) => `site-a-${i + 1}`))
    expect(fired!.items[0]).toMatchObject({ transition: 'fire', severity: 'critical', rule: { name: 'site-a down', condition: 'outage', unit: 's' }, target: { address: '127.0.30.1', tags: ['site-a'] }, ended_at: null })
    expect(resolved!.summary).toBe('6 resolved')
    expect(resolved!.items.every((i) => i.transition === 'resolve' && i.ended_at === new Date(T + 3 * MIN).toISOString())).toBe(true)
    const keys = [...fired!.items, ...resolved!.items].map((i) => i.dedupe_key)
    expect(new Set(keys).size).toBe(12)

    const slacks = receiver.requests.filter((q) => q.path === '/slack').map((q) => JSON.parse(q.body) as { text: string })
    expect(slacks.map((s) => s.text.split('\n')[0])).toEqual(['*pingscope*: 6 firing', '*pingscope*: 6 resolved'])
    expect(slacks[0]!.text).toContain('• FIRING [critical] site-a-1 (127.0.30.1): outage for 0 s (rule "site-a down")')

    expect(mail.mails.map((m) => m.subject)).toEqual(['[pingscope] 6 firing', '[pingscope] 6 resolved'])
    expect(mail.mails[0]).toMatchObject({ from: 'pingscope@example.com', to: ['noc@example.com', 'oncall@example.com'] })
    expect(mail.mails[1]!.text).toContain('RESOLVED [critical] site-a-6 (127.0.30.6): outage over after 3 min, peak 20 s (rule "site-a down")')

    const rows = await db.sql<{ attempts: number; delivered: boolean }[]>`select attempts, delivered_at is not null as delivered from notification_outbox`
    expect(rows).toHaveLength(36)
    expect(rows.every((r) => r.delivered && r.attempts === 1)).toBe(true)
  })

  it('receiver and mail server down for minutes, then up: every notification delivered once, in order, across a sender restart', { timeout: 60_000 }, async () => {
    const [httpPort, smtpPort] = [await freePort(), await freePort()] // nothing listens yet: connections are refused
    const hook = await makeChannel(db.sql, 'hook', 'webhook', { url: `http://127.0.0.1:${httpPort}/hook`, secret: SECRET })
    const email = await makeChannel(db.sql, 'mail', 'email', { host: '127.0.0.1', port: smtpPort, tls: 'none', from: 'pingscope@example.com', to: ['noc@example.com'] })
    const hosts: number[] = []
    for (const i of [1, 2, 3]) hosts.push(await makeTarget(db.sql, `127.0.31.${i}`, ['flappy']))
    await makeRule(db.sql, { name: 'flappy down', scope: 'tag', tag: 'flappy', condition: 'outage', for_s: 0, recover_s: 0, channel_ids: [hook, email] })
    const T = baseTime(2)
    let clock = T
    const evaluator = createEvaluator({ sql: db.sql, log: testLog, now: () => clock, groupWaitMs: 0 })
    const senderOpts = { sql: db.sql, log: testLog, now: () => clock, backoff: { baseMs: 10 * S, capMs: 40 * S } }
    let sender = createSender(senderOpts)
    // Each host down for 2 minutes in turn: six transitions, each over a minute from the next, so six
    // notifications per channel.
    const downAt = (i: number, t: number) => t >= i * 4 * MIN && t < i * 4 * MIN + 2 * MIN
    let receiver: HttpReceiver | null = null
    let mail: SmtpReceiver | null = null
    for (let t = 0; t <= 20 * MIN; t += 5 * S) {
      clock = T + t
      for (const [i, id] of hosts.entries()) await setOutage(db.sql, id, downAt(i, t), clock)
      if (t % (10 * S) === 0) await evaluator.tick()
      if (t === 6 * MIN) {
        // pingscope restarts in the middle: the new sender knows only what the outbox says
        await sender.stop()
        sender = createSender(senderOpts)
      }
      if (t === 12 * MIN) {
        receiver = await http(httpPort)
        receiver.failNext.push(503) // and its first answer is an error: retried like a refusal
        mail = await smtp(smtpPort)
      }
      await sender.tick()
    }
    const stats = sender.stats()
    expect(stats.failures).toBeGreaterThan(0)

    const outbox = await db.sql<{ channelId: number; dedupeKey: string; attempts: number; delivered: boolean }[]>`
      select channel_id, dedupe_key, attempts, delivered_at is not null as delivered from notification_outbox order by id`
    expect(outbox).toHaveLength(12)
    expect(outbox.every((r) => r.delivered)).toBe(true)
    expect(outbox[0]!.attempts).toBeGreaterThanOrEqual(5) // refused for 12 minutes with a 40 s cap
    const expected = (channel: number) => outbox.filter((r) => r.channelId === channel).map((r) => r.dedupeKey)
    // Once each, in the order they were queued: one notification per transition.
    const got = hookBodies(receiver!).flatMap((b) => b.items.map((i) => i.dedupe_key))
    expect(got).toEqual(expected(hook))
    expect(hookBodies(receiver!).map((b) => b.summary)).toEqual(['1 firing', '1 resolved', '1 firing', '1 resolved', '1 firing', '1 resolved'])
    expect(receiver!.requests.filter((q) => q.status === 503)).toHaveLength(1)
    expect(receiver!.requests.every((q) => q.signatureValid)).toBe(true)
    const mailed = mail!.mails.map((m) => /incident (\d+)/.exec(m.text)?.[1] + ' ' + (m.subject.includes('FIRING') ? 'fire' : 'resolve'))
    expect(mailed).toEqual(expected(email).map((k) => k.replace(/^incident:(\d+):(\w+):.*$/, '$1 $2')))
  })

  it('takes over the queue of a sender that died holding it once its lease expires, and gives up a notification after giveUpMs', async () => {
    const port = await freePort()
    const receiver = await http(port)
    const hook = await makeChannel(db.sql, 'hook', 'webhook', { url: `http://127.0.0.1:${port}/hook`, secret: SECRET })
    const id = await makeTarget(db.sql, '127.0.32.1', ['lease'])
    await makeRule(db.sql, { name: 'lease down', scope: 'tag', tag: 'lease', condition: 'outage', for_s: 0, recover_s: 0, channel_ids: [hook] })
    const T = baseTime(1)
    await setOutage(db.sql, id, true, T)
    await createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 }).tick(T)

    // A sender took the channel and died before delivering: the lease (on the database's clock) holds.
    expect(await claimChannel(db.sql, hook, 'a-sender-that-died', 60_000)).not.toBeNull()
    const sender = createSender({ sql: db.sql, log: testLog, now: () => T + 10 * S })
    await sender.tick()
    expect(receiver.requests).toHaveLength(0)
    // A minute later (moved back rather than waited for), the lease has run out.
    await db.sql`update alert_channels set lease_until = clock_timestamp() - interval '1 second' where id = ${hook}`
    await sender.tick()
    await sender.tick()
    expect(hookBodies(receiver)).toHaveLength(1)

    // A receiver that never takes it: retried with backoff, then given up after giveUpMs, and the
    // queue moves on to the next notification.
    const refused = await freePort() // nothing listens there
    await db.sql`update alert_channels set config = config || ${db.sql.json({ url: `http://127.0.0.1:${refused}/refused` })} where id = ${hook}`
    await setOutage(db.sql, id, false, T + MIN)
    await createEvaluator({ sql: db.sql, log: testLog, groupWaitMs: 0 }).tick(T + MIN)
    let clock = T + MIN
    const impatient = createSender({ sql: db.sql, log: testLog, now: () => clock, backoff: { baseMs: 30 * S, capMs: 30 * S }, giveUpMs: 2 * MIN })
    for (; clock <= T + 4 * MIN; clock += 30 * S) await impatient.tick()
    const [row] = await db.sql<{ attempts: number; failed: boolean; lastError: string }[]>`
      select attempts, failed_at is not null as failed, last_error from notification_outbox where transition = 'resolve'`
    expect(row).toMatchObject({ failed: true, attempts: 5, lastError: `POST 127.0.0.1:${refused}: ECONNREFUSED` })
    expect(impatient.stats().givenUp).toBe(1)
  })
})
