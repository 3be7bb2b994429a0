import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/lib/free-port.js'
import type { WebhookBody } from '../../src/alerts/notify.js'
import { startServer } from '../../src/server.js'
import { type TestStore, createTestStore, tempDir, testConfig, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { setOutage } from './helpers.js'
import { startHttpReceiver } from './receivers.js'

// `pingscope serve` runs the evaluator and the sender (ALERTS_ENABLED): a rule and a channel made
// through the API, an outage opened and closed as the outage tracker would, and the webhook receiver on
// loopback gets the fire and then the resolve, on the real clock.

const SECRET = 'serve-test-secret-0123456789'

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe.each(ENGINES)('alerting in pingscope serve (%s engine)', (engine) => {
  let store: TestStore
  beforeAll(async () => {
    store = await createTestStore(engine, tempDir(), { migrated: true })
  })
  afterAll(() => store?.remove())

  it('evaluates rules and delivers notifications while serving', { timeout: 90_000 }, async () => {
    const port = await freePort()
    const receiver = await startHttpReceiver(port, SECRET)
    const config = testConfig({ ...store.env, PROBE_ENABLED: 'false', ADMIN_PASSWORD: 'admin-password-123', ALERTS_EVAL_S: '1', ALERTS_GROUP_WAIT_S: '0' })
    const server = await startServer(config, testLog)
    try {
      const api = async (method: string, path: string, body?: unknown, token?: string) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        return { status: res.status, json: (await res.json()) as Record<string, unknown> }
      }
      const token = (await api('POST', '/auth/login', { username: 'admin', password: 'admin-password-123' })).json.access_token as string
      const target = (await api('POST', '/targets/', { ip: '127.0.40.1', name: 'serve-1' }, token)).json.id as number
      const channel = await api('POST', '/alerts/channels', { name: 'receiver', kind: 'webhook', config: { url: `http://127.0.0.1:${port}/hook`, secret: SECRET } }, token)
      expect(channel.status).toBe(201)
      const rule = await api('POST', '/alerts/rules', { name: 'serve down', scope: 'target', target_id: target, condition: 'outage', for_s: 0, recover_s: 0, channel_ids: [channel.json.id] }, token)
      expect(rule.status).toBe(201)

      await setOutage(server.db.sql, target, true, Date.now())
      const fired = await until('the fire notification', () => receiver.requests[0])
      expect(fired.signatureValid).toBe(true)
      expect((JSON.parse(fired.body) as WebhookBody).items.map((i) => [i.transition, i.target.name])).toEqual([['fire', 'serve-1']])
      const open = await api('GET', '/incidents?state=open', undefined, token)
      expect(open.status).toBe(200)
      const health = async () => (await api('GET', '/health')).json.alerts as Record<string, unknown> & { sender: { delivered: number }; evaluator: Record<string, unknown> }
      expect(await health()).toMatchObject({ enabled: true, open_incidents: { critical: 0, warning: 1, info: 0 }, evaluator: { fired: 1, resolved: 0, failures: 0, last_error: null } })

      await setOutage(server.db.sql, target, false, Date.now())
      const resolved = await until('the resolve notification', () => receiver.requests[1])
      expect((JSON.parse(resolved.body) as WebhookBody).items.map((i) => i.transition)).toEqual(['resolve'])
      expect(receiver.requests).toHaveLength(2)

      // /health and /metrics: this process's counters and, from the database, what is open and queued.
      let alerts = await health()
      // The receiver has the request before the sender has marked it delivered in the database.
      for (let i = 0; i < 50 && (alerts.sender.delivered < 2 || alerts.queued_notifications !== 0); i++) {
        await new Promise((r) => setTimeout(r, 100))
        alerts = await health()
      }
      expect(alerts).toMatchObject({
        enabled: true,
        evaluator: { fired: 1, resolved: 1, failures: 0, last_error: null },
        sender: { delivered: 2, notifications: 2, failures: 0, given_up: 0, last_error: null },
        open_incidents: { critical: 0, warning: 0, info: 0 },
        queued_notifications: 0,
        oldest_queued_s: null,
      })
      expect(alerts.evaluator.passes).toBeGreaterThan(0)
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
      const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)
      expect(['pingscope_alerts_open_incidents{severity="warning"}', 'pingscope_alerts_fired_total', 'pingscope_alerts_resolved_total', 'pingscope_notifications_delivered_total', 'pingscope_notifications_queued'].map(value)).toEqual([0, 1, 1, 2, 0])
    } finally {
      await server.stop()
      await receiver.close()
    }
  })
})
