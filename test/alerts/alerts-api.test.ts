import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEvaluator } from '../../src/alerts/evaluator.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'
import { testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'

// The alerting API: rules, channels (secrets never shown in full), silences and incidents, with the
// same roles as targets (viewers read, admins change). Incidents come from a real evaluator pass.

describe.each(ENGINES)('alerts API (%s engine)', (engine) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp(engine)
  })
  afterAll(() => t?.close())

  const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = t.admin) =>
    t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
  const target = async (ip: string, tags: string[] = []) => (await req('POST', '/targets/', { ip, tags })).json<{ id: number }>().id

  it('creates channels of each kind and never answers a secret in full', async () => {
    const hook = await req('POST', '/alerts/channels', { name: 'noc hook', kind: 'webhook', config: { url: 'https://user:pw@hooks.example/in?token=abc' } })
    expect(hook.statusCode).toBe(201)
    const h = hook.json()
    expect(h.secret).toMatch(/^[A-Za-z0-9_-]{43}$/) // generated, shown once
    expect(h.config).toEqual({ url: 'https://****@hooks.example/in?****', secret: `****${h.secret.slice(-4)}` })
    expect(h).toMatchObject({ kind: 'webhook', enabled: true, pending: 0, last_error: null })
    const slack = await req('POST', '/alerts/channels', { name: 'slack', kind: 'slack', config: { url: 'https://hooks.slack.example/services/T0/B0/abcdefghijkl' } })
    expect(slack.json().config).toEqual({ url: 'https://hooks.slack.example/****ijkl' })
    expect(slack.json().secret).toBeUndefined()
    const mail = await req('POST', '/alerts/channels', {
      name: 'mail',
      kind: 'email',
      config: { host: 'smtp.example', username: 'u', password: 'hunter2-hunter2', from: 'pingscope@example.com', to: ['noc@example.com'] },
    })
    expect(mail.statusCode).toBe(201)
    expect(mail.json().config).toEqual({ host: 'smtp.example', port: 587, tls: 'starttls', username: 'u', password: '****', from: 'pingscope@example.com', to: ['noc@example.com'] })

    // listing (viewers too) masks the same way; the stored secret is the one shown at creation
    const list = await req('GET', '/alerts/channels', undefined, t.viewer)
    expect(list.statusCode).toBe(200)
    expect(JSON.stringify(list.json())).not.toContain(h.secret)
    expect(JSON.stringify(list.json())).not.toContain('hunter2')
    // a PATCH of the URL keeps the secret; null clears an optional key
    const patched = await req('PATCH', `/alerts/channels/${h.id}`, { config: { url: 'http://127.0.0.1:9/hook' } })
    expect(patched.statusCode).toBe(200)
    const [row] = await t.db.sql<{ config: { secret: string; url: string } }[]>`select config from alert_channels where id = ${h.id}`
    expect(row!.config).toEqual({ url: 'http://127.0.0.1:9/hook', secret: h.secret })
    expect((await req('PATCH', `/alerts/channels/${mail.json().id}`, { config: { password: null } })).json().config.password).toBeNull()
    expect((await req('PATCH', `/alerts/channels/${h.id}`, { config: { secret: null } })).statusCode).toBe(422)

    // mistakes: named fields, 409 for a taken name, kind fixed after creation
    const bad = await req('POST', '/alerts/channels', { name: 'x', kind: 'webhook', config: { url: 'ftp://x' } })
    expect(bad.statusCode).toBe(422)
    expect(bad.json().detail[0].loc).toEqual(['body', 'config', 'url'])
    const noTo = await req('POST', '/alerts/channels', { name: 'y', kind: 'email', config: { host: 'h', from: 'a@b.c', to: [] } })
    expect(noTo.json().detail[0].loc).toEqual(['body', 'config', 'to'])
    expect((await req('POST', '/alerts/channels', { name: 'slack', kind: 'slack', config: { url: 'https://a.example/' } })).statusCode).toBe(409)
    expect((await req('PATCH', `/alerts/channels/${h.id}`, { name: 'slack' })).statusCode).toBe(409)
    expect((await req('PATCH', `/alerts/channels/${h.id}`, { kind: 'slack' })).statusCode).toBe(422)
    expect((await req('POST', '/alerts/channels', { name: 'z', kind: 'slack', config: { url: 'https://a.example/' } }, t.viewer)).statusCode).toBe(403)
  })

  it('checks rules across fields on create and on PATCH', async () => {
    const tid = await target('127.0.9.1', ['edge'])
    const [ch] = (await req('GET', '/alerts/channels')).json<{ id: number }[]>()
    const ok = await req('POST', '/alerts/rules', { name: 'edge loss', scope: 'tag', tag: 'edge', condition: 'loss', threshold: 5, channel_ids: [ch!.id] })
    expect(ok.statusCode).toBe(201)
    expect(ok.json()).toMatchObject({ scope: 'tag', tag: 'edge', target_id: null, window_s: 300, for_s: 60, recover_s: 120, severity: 'warning', muted: false, channel_ids: [ch!.id], created_by: 'admin' })
    const cases: [unknown, string][] = [
      [{ name: 'a', scope: 'tag', condition: 'loss', threshold: 5 }, 'tag'],
      [{ name: 'a', scope: 'target', condition: 'outage' }, 'target_id'],
      [{ name: 'a', scope: 'target', target_id: 999999, condition: 'outage' }, 'target_id'],
      [{ name: 'a', scope: 'all', tag: 'edge', condition: 'outage' }, 'tag'],
      [{ name: 'a', scope: 'all', condition: 'loss' }, 'threshold'],
      [{ name: 'a', scope: 'all', condition: 'loss', threshold: 101 }, 'threshold'],
      [{ name: 'a', scope: 'all', condition: 'outage', threshold: 1 }, 'threshold'],
      [{ name: 'a', scope: 'all', condition: 'outage', channel_ids: [999999] }, 'channel_ids'],
      [{ name: 'a', scope: 'all', condition: 'outage', window_s: 59 }, 'window_s'],
      [{ name: 'a', scope: 'all', condition: 'jitter' }, 'condition'],
      [{ name: 'a', scope: 'all', condition: 'path_change', threshold: 1.5 }, 'threshold'],
      [{ name: 'a', scope: 'all', condition: 'probe_missing', threshold: 30 }, 'threshold'],
      [{ name: 'a\u0000', scope: 'all', condition: 'outage' }, 'name'],
    ]
    for (const [payload, field] of cases) {
      const res = await req('POST', '/alerts/rules', payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(422)
      expect(res.json().detail.map((d: { loc: string[] }) => d.loc.join('.')), JSON.stringify(payload)).toContain(`body.${field}`)
    }
    expect((await req('POST', '/alerts/rules', { name: 'edge loss', scope: 'all', condition: 'outage' })).statusCode).toBe(409)
    // one field is enough to change the scope or the condition: what no longer applies goes
    const id = ok.json().id
    expect((await req('PATCH', `/alerts/rules/${id}`, { scope: 'all' })).json()).toMatchObject({ scope: 'all', tag: null })
    expect((await req('PATCH', `/alerts/rules/${id}`, { condition: 'outage' })).json()).toMatchObject({ condition: 'outage', threshold: null })
    expect((await req('PATCH', `/alerts/rules/${id}`, { scope: 'target', target_id: tid, muted: true })).json()).toMatchObject({ scope: 'target', target_id: tid, muted: true })
    expect((await req('PATCH', `/alerts/rules/${id}`, { condition: 'latency_p95' })).statusCode).toBe(422)
    // path_change counts changes (1 unless given); probe_missing, like outage, takes no threshold
    expect((await req('PATCH', `/alerts/rules/${id}`, { condition: 'path_change' })).json()).toMatchObject({ condition: 'path_change', threshold: 1 })
    expect((await req('PATCH', `/alerts/rules/${id}`, { condition: 'probe_missing' })).json()).toMatchObject({ condition: 'probe_missing', threshold: null })
    const path = await req('POST', '/alerts/rules', { name: 'path', scope: 'all', condition: 'path_change', window_s: 900 })
    expect(path.json()).toMatchObject({ condition: 'path_change', threshold: 1, window_s: 900 })
    expect((await req('DELETE', `/alerts/rules/${path.json().id}`)).statusCode).toBe(200)
    expect((await req('PATCH', `/alerts/rules/${id}`, { bogus: 1 })).statusCode).toBe(422)
    expect((await req('GET', `/alerts/rules/${id}`, undefined, t.viewer)).statusCode).toBe(200)
    expect((await req('PATCH', `/alerts/rules/${id}`, { muted: false }, t.viewer)).statusCode).toBe(403)
    expect((await req('GET', '/alerts/rules/424242')).json()).toEqual({ detail: 'Rule not found' })
    // deleting a channel takes it out of its rules
    await req('DELETE', `/alerts/channels/${ch!.id}`)
    expect((await req('GET', `/alerts/rules/${id}`)).json().channel_ids).toEqual([])
    expect((await req('DELETE', `/alerts/rules/${id}`)).json()).toEqual({ message: 'Rule deleted', id })
  })

  it('keeps silences by target or tag, with their times checked', async () => {
    const tid = await target('127.0.9.2')
    const now = Date.now()
    const iso = (ms: number) => new Date(ms).toISOString()
    const a = await req('POST', '/alerts/silences', { target_id: tid, ends_at: iso(now + 3600_000), reason: 'maintenance' })
    expect(a.statusCode).toBe(201)
    expect(a.json()).toMatchObject({ target_id: tid, tag: null, reason: 'maintenance', created_by: 'admin', active: true })
    const b = await req('POST', '/alerts/silences', { tag: 'edge', starts_at: iso(now + 7200_000), ends_at: iso(now + 9000_000), reason: 'window' })
    expect(b.json().active).toBe(false)
    for (const [payload, field] of [
      [{ ends_at: iso(now + 1000), reason: 'x' }, 'target_id'],
      [{ target_id: tid, tag: 'edge', ends_at: iso(now + 1000), reason: 'x' }, 'tag'],
      [{ tag: 'edge', starts_at: iso(now), ends_at: iso(now - 1000), reason: 'x' }, 'ends_at'],
      [{ target_id: 999999, ends_at: iso(now + 1000), reason: 'x' }, 'target_id'],
      [{ tag: 'edge', ends_at: '0000-01-01T00:00:00Z', reason: 'x' }, 'ends_at'],
      [{ tag: 'edge', ends_at: iso(now + 1000), reason: '' }, 'reason'],
    ] as const) {
      const res = await req('POST', '/alerts/silences', payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(422)
      expect(res.json().detail.map((d: { loc: string[] }) => d.loc.join('.'))).toContain(`body.${field}`)
    }
    const active = await req('GET', '/alerts/silences?state=active', undefined, t.viewer)
    expect(active.json().map((s: { id: number }) => s.id)).toEqual([a.json().id])
    expect(active.headers['x-total-count']).toBe('1')
    expect((await req('GET', '/alerts/silences?state=upcoming')).json().map((s: { id: number }) => s.id)).toEqual([b.json().id])
    const ended = await req('PATCH', `/alerts/silences/${a.json().id}`, { ends_at: iso(now - 1) })
    expect(ended.statusCode).toBe(422) // before its start
    const early = await req('PATCH', `/alerts/silences/${a.json().id}`, { ends_at: iso(Date.now() + 1) })
    expect(early.json().reason).toBe('maintenance')
    expect((await req('DELETE', `/alerts/silences/${b.json().id}`)).statusCode).toBe(200)
    expect((await req('DELETE', `/alerts/silences/${b.json().id}`)).statusCode).toBe(404)
  })

  it('lists incidents the evaluator opened, acknowledges them and keeps notes', async () => {
    const tid = await target('127.0.9.3', ['core'])
    const ch = (await req('POST', '/alerts/channels', { name: 'incident hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/', secret: 's'.repeat(16) } })).json()
    const rule = (await req('POST', '/alerts/rules', { name: 'core down', scope: 'tag', tag: 'core', condition: 'outage', for_s: 0, recover_s: 0, severity: 'critical', channel_ids: [ch.id] })).json()
    const at = Date.now()
    await t.db.sql`insert into outages (target_id, started_at, lost_rounds, cause) values (${tid}, ${new Date(at - 30_000)}, 3, 'timeout')`
    const evaluator = createEvaluator({ sql: t.db.sql, log: testLog, groupWaitMs: 0 })
    await evaluator.tick(at)

    const open = await req('GET', '/incidents?state=open', undefined, t.viewer)
    expect(open.statusCode).toBe(200)
    expect(open.headers['x-total-count']).toBe('1')
    const [inc] = open.json()
    expect(inc).toMatchObject({
      rule_id: rule.id, rule_name: 'core down', condition: 'outage', severity: 'critical', unit: 's', target_id: tid, target_address: '127.0.9.3',
      ongoing: true, ended_at: null, peak: 30, notified: true, acknowledged_by: null, notes: [],
    })
    expect((await req('GET', '/incidents?state=closed')).json()).toEqual([])
    expect((await req('GET', `/incidents?target_id=${tid}&severity=critical&acknowledged=false`)).json()).toHaveLength(1)
    expect((await req('GET', `/incidents?to=${new Date(at - 3600_000).toISOString()}`)).json()).toEqual([])

    expect((await req('POST', `/incidents/${inc.id}/ack`, undefined, t.viewer)).statusCode).toBe(403)
    const acked = await req('POST', `/incidents/${inc.id}/ack`)
    expect(acked.json()).toMatchObject({ acknowledged_by: 'admin', acknowledged_at: expect.stringMatching(/Z$/) })
    expect((await req('POST', `/incidents/${inc.id}/ack`)).json().acknowledged_at).toBe(acked.json().acknowledged_at)
    const noted = await req('POST', `/incidents/${inc.id}/notes`, { text: 'uplink of rack 4' })
    expect(noted.json().notes).toEqual([{ at: expect.any(String), by: 'admin', text: 'uplink of rack 4' }])
    expect((await req('POST', `/incidents/${inc.id}/notes`, { text: '' })).statusCode).toBe(422)
    expect((await req('POST', '/incidents/424242/ack')).json()).toEqual({ detail: 'Incident not found' })

    const detail = (await req('GET', `/incidents/${inc.id}`)).json()
    expect(detail.notifications).toEqual([
      expect.objectContaining({ channel_id: ch.id, transition: 'fire', attempts: 0, delivered_at: null, failed_at: null }),
    ])
    // deleting the rule closes its incident and queues the resolve of what was notified
    await req('DELETE', `/alerts/rules/${rule.id}`)
    const closed = (await req('GET', `/incidents/${inc.id}`)).json()
    expect(closed).toMatchObject({ ongoing: false, end_reason: 'rule_deleted', rule_id: null, rule_name: 'core down' })
    expect(closed.notifications.map((n: { transition: string }) => n.transition)).toEqual(['fire', 'resolve'])
  })
})
