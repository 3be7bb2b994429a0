import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, startServer } from '../../src/server.js'
import { type TestStore, createTestStore, tempDir, testConfig, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'

// A real server (real scheduler, real ICMP on loopback) over real HTTP: live updates, metrics, badges.
describe.each(ENGINES)('live updates, metrics and badges over HTTP (%s engine)', (engine) => {
  let store: TestStore
  let server: RunningServer
  let auth: { authorization: string }
  let pub: number
  let priv: number

  beforeAll(async () => {
    // Already migrated (a copy of the run's template): a server on a fresh database is server.test.ts's subject.
    store = await createTestStore(engine, tempDir(), { migrated: true })
    server = await startServer(testConfig({ ...store.env, PORT: '0', ADMIN_PASSWORD: 'admin-password-123' }), testLog)
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-password-123' }),
    })
    auth = { authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` }
    const add = async (body: object) =>
      ((await (await fetch(`${server.url}/targets/`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { id: number }).id
    pub = await add({ ip: '127.0.5.1', frequency: 1, packets: 2, badge_public: true, name: 'public-host' })
    priv = await add({ ip: '127.0.5.2', frequency: 1 })
  })
  afterAll(async () => {
    await server?.stop()
    await store?.remove()
  })

  it('streams samples every second and target changes made through the API', async () => {
    const events: { event: string; data: { type?: string; items?: { targetId: number; rttMs: number | null }[]; reason?: string } }[] = []
    const ctrl = new AbortController()
    const res = await fetch(`${server.url}/live?access_token=${auth.authorization.slice(7)}`, { signal: ctrl.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reader = res.body!.getReader()
    let buf = ''
    const pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          buf += new TextDecoder().decode(value)
          let i: number
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i)
            buf = buf.slice(i + 2)
            const event = /^event: (.*)$/m.exec(block)?.[1]
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (event && data) events.push({ event, data: JSON.parse(data) })
          }
        }
      } catch {
        // aborted
      }
    })()
    await new Promise((r) => setTimeout(r, 3500))
    // a change from the API reaches the stream through the scheduler's reload
    await fetch(`${server.url}/targets/${priv}/pause`, { method: 'POST', headers: auth })
    await new Promise((r) => setTimeout(r, 2000))
    ctrl.abort()
    await pump
    expect(events[0]?.event).toBe('hello')
    const samples = events.filter((e) => e.event === 'samples')
    expect(samples.length).toBeGreaterThanOrEqual(2)
    const mine = samples.flatMap((e) => e.data.items ?? []).filter((i) => i.targetId === pub)
    expect(mine.length).toBeGreaterThanOrEqual(2)
    expect(mine.every((i) => i.rttMs !== null && i.rttMs < 5)).toBe(true)
    expect(events.some((e) => e.event === 'targets')).toBe(true)
  })

  it('refuses the stream without a valid token', async () => {
    expect((await fetch(`${server.url}/live`)).status).toBe(401)
    expect((await fetch(`${server.url}/live?access_token=forged`)).status).toBe(401)
  })

  // An open stream is re-checked like a request: revoking its token or disabling its user ends it.
  describe('closes an open stream once its credential is no longer valid', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    /** GET /live as a client would; `ended` resolves when the server ends the stream. */
    async function openLive(token: string) {
      const ctrl = new AbortController()
      const res = await fetch(`${server.url}/live?access_token=${encodeURIComponent(token)}`, { signal: ctrl.signal })
      expect(res.status).toBe(200)
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let text = ''
      let hello = () => {}
      const greeted = new Promise<void>((r) => (hello = r))
      const ended = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read()
            if (done) return
            text += decoder.decode(value, { stream: true })
            if (text.includes('event: hello')) hello()
          }
        } catch {
          // aborted by the test
        }
      })()
      await Promise.race([greeted, sleep(5000)])
      expect(text).toContain('event: hello')
      return { ended, events: () => [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]), abort: () => ctrl.abort() }
    }
    // Changes made through the API end the stream at once: well before the first periodic re-check (3 s
    // after the stream opened), so these bounds tell the two paths apart.
    const AT_ONCE_MS = 2000
    /** Milliseconds until `p` settles, or null when it has not within `ms`. */
    const settlesWithin = async (p: Promise<unknown>, ms: number, t0: number) =>
      Promise.race([p.then(() => Date.now() - t0), sleep(ms - (Date.now() - t0)).then(() => null)])
    const api = async (method: string, path: string, body?: object) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
      expect(res.status, `${method} ${path}`).toBeLessThan(300)
      return res.json() as Promise<Record<string, unknown>>
    }

    it('ends a stream opened with an API token revoked through the API, and only that one', async () => {
      const { token, id } = (await api('POST', '/tokens', { name: 'live revoke' })) as { token: string; id: number }
      const admin = await openLive(auth.authorization.slice(7))
      const live = await openLive(token)
      try {
        const t0 = Date.now()
        await api('DELETE', `/tokens/${id}`)
        expect(await settlesWithin(live.ended, AT_ONCE_MS, t0)).not.toBeNull()
        expect(live.events().at(-1)).toBe('unauthorized')
        expect(await settlesWithin(admin.ended, 500, Date.now())).toBeNull() // the admin's own stream goes on
      } finally {
        live.abort()
        admin.abort()
      }
    })

    it('ends a stream opened with the JWT of a user who gets disabled', async () => {
      const user = (await api('POST', '/users', { username: 'live-viewer', password: 'live-viewer-123', role: 'viewer' })) as { id: number }
      const login = await fetch(`${server.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'live-viewer', password: 'live-viewer-123' }),
      })
      const live = await openLive(((await login.json()) as { access_token: string }).access_token)
      try {
        const t0 = Date.now()
        await api('PATCH', `/users/${user.id}`, { disabled: true })
        expect(await settlesWithin(live.ended, AT_ONCE_MS, t0)).not.toBeNull()
      } finally {
        live.abort()
      }
    })

    it('ends a stream within 5 s when another process (the CLI) revokes its token in the database', async () => {
      const { token, id } = (await api('POST', '/tokens', { name: 'live revoke elsewhere' })) as { token: string; id: number }
      const live = await openLive(token)
      try {
        const t0 = Date.now()
        await server.db.sql`update api_tokens set revoked_at = now() where id = ${id}`
        expect(await settlesWithin(live.ended, 5000, t0)).not.toBeNull()
      } finally {
        live.abort()
      }
    })
  })

  it('exposes Prometheus metrics, per target, to authenticated scrapers', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401)
    const res = await fetch(`${server.url}/metrics`, { headers: auth })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    const rounds = Number(/^pingscope_probe_rounds_total (\d+)$/m.exec(text)?.[1])
    expect(rounds).toBeGreaterThan(5)
    expect(text).toMatch(/^pingscope_writer_dropped_samples_total 0$/m)
    const rtt = /^pingscope_target_rtt_seconds\{target_id="(\d+)",address="127\.0\.5\.1",name="public-host"\} ([0-9.e-]+)$/m.exec(text)
    expect(Number(rtt?.[1])).toBe(pub)
    expect(Number(rtt?.[2])).toBeGreaterThan(0)
    expect(Number(rtt?.[2])).toBeLessThan(0.005)
    expect(text).toMatch(new RegExp(`^pingscope_target_loss_ratio\\{target_id="${pub}",[^}]*\\} 0$`, 'm'))
    // the server is the one probe of its fleet, holding a lease on the one enabled target (priv is paused)
    expect(text).toMatch(/^pingscope_probe_leased_targets 1$/m)
    expect(text).toMatch(/^pingscope_fleet_probe_up\{probe="[^"]+",site="default"\} 1$/m)
    expect(text).toMatch(/^pingscope_fleet_probe_assigned_targets\{probe="[^"]+",site="default"\} 1$/m)
    expect(text).toMatch(/^pingscope_fleet_probe_heartbeat_age_seconds\{probe="[^"]+",site="default"\} [0-9.e-]+$/m)
    const health = (await (await fetch(`${server.url}/health`)).json()) as { probes: { state: string; assigned: number; heartbeat_age_s: number }[] }
    expect(health.probes).toHaveLength(1)
    expect(health.probes[0]).toMatchObject({ state: 'live', assigned: 1 })
    expect(health.probes[0]!.heartbeat_age_s).toBeLessThan(10)
    // every line is a comment or `name{labels} value`
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+)$/)
  })

  it('draws a public badge for opted-in targets only', async () => {
    const res = await fetch(`${server.url}/badge/${pub}.svg`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/)
    const svg = await res.text()
    expect(svg).toMatch(/^<svg /)
    expect(svg).toContain('public-host')
    expect(svg).toMatch(/up 100% [0-9.]+ ms/)
    expect((await fetch(`${server.url}/badge/${priv}.svg`)).status).toBe(404)
    expect((await fetch(`${server.url}/badge/999.svg`)).status).toBe(404)
    expect((await fetch(`${server.url}/badge/x.svg`)).status).toBe(422)
  })
})
