import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/lib/free-port.js'
import type { NotificationItem, WebhookBody } from '../../src/alerts/notify.js'
import { type RunningServer, startServer } from '../../src/server.js'
import { type TestStore, createTestStore, tempDir, testConfig, testLog } from '../helpers/db.js'
import { ENGINES, type EngineKind } from '../helpers/engines.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { type HttpReceiver, type SmtpReceiver, startHttpReceiver, startSmtpReceiver } from './receivers.js'

// Alerting end to end on the network lab, on the real clock: `pingscope serve` probes a lossy host whose
// loss is switched between 0 % and 20 % and a silent host that flaps every 20 s and then stays down for
// 40 s; its evaluator judges the rules and its sender delivers to a real webhook receiver and a real SMTP
// server on loopback. Exactly the expected incidents and notifications: none while the host flaps faster
// than the rule's `for`, one per condition that holds long enough. Both engines run side by side, each
// `serve` on its own database and receivers, probing the same lab hosts on the same schedule.
//
// The schedule, from M0 (a minute boundary, so that the 1-minute buckets the loss rule reads are known):
//   silent: down 0–20 s, up 20–40 s, down 40–60 s, up 60–80 s, down 80–120 s, then up
//   lossy:  0 % until 20 s, 20 % from 20 to 100 s, then 0 %
// Rules: silent outage for 25 s (recover 5 s); lossy loss >= 5 % over a 60 s window for 20 s (recover 20 s).
// A 20 s flap opens an outage after 3 lost rounds and closes it 17 s later: never 25 s. The loss over the
// window passes 5 % at about 27 s and falls under it once the minute M1 leaves the window (120 s).

const run = promisify(execFile)
const SECRET = 'lab-alerts-shared-secret-0123'
const S = 1000

interface Lane {
  engine: EngineKind
  store: TestStore
  hook: HttpReceiver
  mail: SmtpReceiver
  server: RunningServer
  targets: { lossy: number; silent: number }
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())))

describe('alerting on the network lab, end to end (both engines side by side)', () => {
  let lab: Lab
  const lanes: Lane[] = []

  const setSilent = (down: boolean) => run('ip', ['netns', 'exec', `${lab.prefix}silent`, 'sysctl', '-qw', `net.ipv4.icmp_echo_ignore_all=${down ? 1 : 0}`])

  beforeAll(async () => {
    // Exact loss per block of 10 echoes; 1 ms delay.
    lab = await startLab(['silent', 'lossy'], { delayMs: 1, loss: 0, lossBlock: 10, seed: 3 })
    await setSilent(false)
  })
  afterAll(async () => {
    for (const l of lanes) {
      await l.server.stop().catch(() => {})
      await l.hook.close()
      await l.mail.close()
      await l.store.remove()
    }
    await lab?.stop()
  })

  it('flapping below the hysteresis pages no one; a lossy spell and a long outage page once each, by webhook and email', { timeout: 420_000 }, async () => {
    for (const engine of ENGINES) {
      const store = await createTestStore(engine, tempDir(), { migrated: true })
      const hook = await startHttpReceiver(await freePort(), SECRET)
      const mail = await startSmtpReceiver(await freePort())
      const config = testConfig({ ...store.env, ADMIN_PASSWORD: 'admin-password-123', ALERTS_EVAL_S: '1', ALERTS_GROUP_WAIT_S: '0', PROBE_RELOAD_MS: '500' })
      const server = await startServer(config, testLog)
      const lane: Lane = { engine, store, hook, mail, server, targets: { lossy: 0, silent: 0 } }
      lanes.push(lane)
      const api = async (method: string, path: string, body?: unknown, token?: string) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        const json = (await res.json()) as Record<string, unknown>
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
        return json
      }
      const token = (await api('POST', '/auth/login', { username: 'admin', password: 'admin-password-123' })).access_token as string
      lane.targets.lossy = (await api('POST', '/targets/', { ip: lab.lossy, name: 'lossy', frequency: 1, packets: 5, timeout_ms: 500 }, token)).id as number
      lane.targets.silent = (await api('POST', '/targets/', { ip: lab.silent, name: 'silent', frequency: 1, packets: 1, timeout_ms: 500 }, token)).id as number
      const channels = [
        (await api('POST', '/alerts/channels', { name: 'hook', kind: 'webhook', config: { url: `http://127.0.0.1:${hook.port}/hook`, secret: SECRET } }, token)).id,
        (await api('POST', '/alerts/channels', { name: 'mail', kind: 'email', config: { host: '127.0.0.1', port: mail.port, tls: 'none', from: 'pingscope@example.com', to: ['noc@example.com'] } }, token)).id,
      ]
      await api('POST', '/alerts/rules', { name: 'silent down', scope: 'target', target_id: lane.targets.silent, condition: 'outage', for_s: 25, recover_s: 5, severity: 'critical', channel_ids: channels }, token)
      await api('POST', '/alerts/rules', { name: 'lossy', scope: 'target', target_id: lane.targets.lossy, condition: 'loss', threshold: 5, window_s: 60, for_s: 20, recover_s: 20, channel_ids: channels }, token)
    }

    // M0: the next minute boundary at least 10 s away (the probes have started meanwhile).
    const M0 = Math.ceil((Date.now() + 10 * S) / 60_000) * 60_000
    const at = (s: number) => sleepUntil(M0 + s * S)
    await at(0)
    await setSilent(true)
    await at(20)
    await Promise.all([setSilent(false), lab.rebuild(['lossy'], { loss: 0.2 })])
    await at(40)
    await setSilent(true)
    await at(60)
    await setSilent(false)
    await at(80)
    await setSilent(true)
    await at(100)
    await lab.rebuild(['lossy'], { loss: 0 })
    await at(120)
    await setSilent(false)

    // Fire and resolve of both rules, on both channels, in every lane; then 10 s more for anything extra.
    const items = (l: Lane) => l.hook.requests.filter((q) => q.status === 200).flatMap((q) => (JSON.parse(q.body) as WebhookBody).items)
    const deadline = M0 + 240 * S
    while (Date.now() < deadline && !lanes.every((l) => items(l).length >= 4 && l.mail.mails.flatMap((m) => m.text.match(/^- (FIRING|RESOLVED)/gm) ?? []).length >= 4)) {
      await new Promise((r) => setTimeout(r, 500))
    }
    await new Promise((r) => setTimeout(r, 10 * S))

    for (const l of lanes) {
      const where = `${l.engine} engine`
      const rows = await l.server.db.sql<{ ruleName: string; targetId: number; startedAt: Date; firedAt: Date; endedAt: Date | null; endReason: string | null; notified: boolean }[]>`
        select rule_name, target_id, started_at, fired_at, ended_at, end_reason, notified from incidents order by rule_name`
      const rel = (d: Date | null) => (d === null ? null : (d.getTime() - M0) / 1000)
      expect(rows.map((r) => [r.ruleName, r.targetId, r.endReason, r.notified]), where).toEqual([
        ['lossy', l.targets.lossy, 'recovered', true],
        ['silent down', l.targets.silent, 'recovered', true],
      ])
      const [lossy, silent] = rows.map((r) => ({ started: rel(r.startedAt)!, fired: rel(r.firedAt)!, ended: rel(r.endedAt)! }))
      // The long outage: opened after 3 lost rounds past 80 s, fired 25 s later, over at the first reply after 120 s.
      expect(silent!.started, where).toBeGreaterThanOrEqual(80)
      expect(silent!.started, where).toBeLessThanOrEqual(88)
      expect(silent!.fired - silent!.started, where).toBeGreaterThanOrEqual(25)
      expect(silent!.fired - silent!.started, where).toBeLessThanOrEqual(28)
      expect(silent!.ended, where).toBeGreaterThanOrEqual(120)
      expect(silent!.ended, where).toBeLessThanOrEqual(125)
      // The lossy spell: over 5 % within the window from about 27 s, under it once minute M1 leaves it.
      expect(lossy!.started, where).toBeGreaterThanOrEqual(20)
      expect(lossy!.started, where).toBeLessThanOrEqual(45)
      expect(lossy!.fired - lossy!.started, where).toBeGreaterThanOrEqual(20)
      expect(lossy!.fired - lossy!.started, where).toBeLessThanOrEqual(23)
      expect(lossy!.ended, where).toBeGreaterThanOrEqual(100)
      expect(lossy!.ended, where).toBeLessThanOrEqual(128)

      // Webhook: every request signed, exactly one item per transition, fires before their resolves.
      expect(l.hook.requests.every((q) => q.signatureValid && q.status === 200), where).toBe(true)
      const seen = items(l)
      const summary = (i: NotificationItem) => `${i.transition} ${i.rule.name}`
      expect(seen.map(summary).sort(), where).toEqual(['fire lossy', 'fire silent down', 'resolve lossy', 'resolve silent down'])
      expect(new Set(seen.map((i) => i.dedupe_key)).size, where).toBe(4)
      for (const rule of ['lossy', 'silent down']) {
        const order = seen.filter((i) => i.rule.name === rule).map((i) => i.transition)
        expect(order, `${where}: ${rule}`).toEqual(['fire', 'resolve'])
      }
      // Email: the same four, one line each.
      const lines = l.mail.mails.flatMap((m) => m.text.match(/^- (FIRING|RESOLVED) .*$/gm) ?? [])
      expect(lines.map((x) => x.replace(/^- (FIRING|RESOLVED) \[(\w+)\] (\w+) .*$/, '$1 $3')).sort(), where).toEqual([
        'FIRING lossy',
        'FIRING silent',
        'RESOLVED lossy',
        'RESOLVED silent',
      ])
      expect(l.mail.mails.every((m) => m.to.includes('noc@example.com')), where).toBe(true)
    }
  })
})
