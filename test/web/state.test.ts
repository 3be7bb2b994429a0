// Issue 14 end to end: the built `pingscope serve` probing a live loopback target (up), a loopback target
// with an hour of lossy history written directly (degraded), the network lab's silent host (a real
// outage: down) and a paused documentation address (never probed), driven through Debian's Chromium.
// The fleet, the target page and the API must say the same state; a down target says since when and
// its sparkline shows its loss; viewers see no write actions; answers are compressed, the live stream
// is not. Any console error fails the test, except the network log lines of the answers a step
// provokes on purpose (listed with the step). Screenshots go to test-results/.
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FLEET_READY_MARK } from '../../scripts/bench/fleet.js'
import type { TimelineEventOut } from '../../src/events/events.schema.js'
import type { TargetOut } from '../../src/targets/targets.schema.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { ADMIN_PASSWORD as PASSWORD, DashboardHarness, RESULTS } from '../helpers/browser.js'

const VIEWER = { username: 'noc', password: 'noc-password-123' }

describe.each(ENGINES)('target state in the dashboard (%s engine)', (engine) => {
  let store: TestStore
  let lab: Lab
  let h: DashboardHarness
  let url: string
  let token: string
  const ids: Record<string, number> = {}

  const api = async <T>(method: string, p: string, body?: unknown, bearer = token): Promise<T> => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    })
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }
  const login = async (username: string, password: string) => {
    const res = await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
    return ((await res.json()) as { access_token: string }).access_token
  }
  const unexpectedConsoleErrors = () => h.unexpectedConsoleErrors()
  const row = (page: Page, name: string) => page.locator('tr[data-target-id]', { has: page.getByRole('link', { name, exact: true }) })

  /** A signed-in page in a fresh context (UTC, so the times shown can be compared with the API's). */
  async function signedIn(username: string, password: string): Promise<Page> {
    const page = await h.signedIn(username, password)
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, FLEET_READY_MARK)
    return page
  }

  beforeAll(async () => {
    lab = await startLab(['silent'])
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    const rows = await db.sql<{ id: number; name: string }[]>`
      insert into targets (address, name, tags, interval_s, packets, enabled, created_at)
      values ('127.0.8.1', 'loop-up', '{lab}', 1, 1, true, now() - interval '2 hours'),
             ('127.0.8.2', 'lossy', '{lab}', 60, 1, true, now() - interval '2 hours'),
             (${lab.silent}, 'silent', '{lab}', 1, 1, true, now() - interval '2 hours'),
             ('203.0.113.7', 'seed-paused', '{seed}', 60, 1, false, now() - interval '2 hours')
      returning id, name`
    for (const r of rows) ids[r.name] = r.id
    // An hour of history written directly: lossy loses every 5th echo (20 %); the silent host every echo.
    await db.sql`
      insert into samples (time, target_id, seq, rtt_us, ttl, status)
      select now() - interval '10 seconds' - make_interval(secs => 30 * k), t.id, 0,
        case when t.name = 'silent' or k % 5 = 4 then null else 150 + k end,
        case when t.name = 'silent' or k % 5 = 4 then null else 64 end,
        case when t.name = 'silent' or k % 5 = 4 then 1 else 0 end
      from targets t, generate_series(0, 99) k
      where t.name in ('lossy', 'silent')`
    await db.destroy({ keep: true })

    // No traceroute binary: a run fails, and the page must say why in words.
    h = await DashboardHarness.start(store, { TRACEROUTE_BIN: '/nonexistent/traceroute' })
    ;({ url, token } = h)
    await h.createUser(VIEWER.username, VIEWER.password, 'viewer')
    // A token of the viewer's own, for the admin's token list.
    await api('POST', '/tokens', { name: 'noc-grafana' }, await login(VIEWER.username, VIEWER.password))
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
    await lab?.stop()
  })

  it('compresses the JSON and the dashboard bundle, and never the live stream', async () => {
    const targets = await fetch(`${url}/targets/`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'br, gzip' } })
    expect(targets.headers.get('content-encoding')).toBe('br')
    expect(((await targets.json()) as TargetOut[]).length).toBe(4) // fetch decodes it
    const index = await (await fetch(`${url}/`, { headers: { accept: 'text/html' } })).text()
    const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(index)![1]!
    const js = await fetch(`${url}${bundle}`, { headers: { 'accept-encoding': 'gzip' } })
    expect(js.headers.get('content-encoding')).toBe('gzip')
    expect((await js.text()).length).toBeGreaterThan(100_000)
    const plain = await fetch(`${url}${bundle}`, { headers: { 'accept-encoding': 'identity' } })
    expect(plain.headers.get('content-encoding')).toBeNull()
    await plain.arrayBuffer()

    // The event stream: not compressed, and its first event arrives at once (nothing holds it back).
    const abort = new AbortController()
    const t0 = Date.now()
    const live = await fetch(`${url}/live?access_token=${token}`, { headers: { 'accept-encoding': 'br, gzip, deflate' }, signal: abort.signal })
    expect(live.headers.get('content-type')).toContain('text/event-stream')
    expect(live.headers.get('content-encoding')).toBeNull()
    const reader = live.body!.getReader()
    let text = ''
    while (!text.includes('event: hello')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    expect(text).toContain('event: hello')
    expect(Date.now() - t0).toBeLessThan(2000)
    abort.abort()
  })

  it('shows the API state on the fleet and the target page: up, degraded, down (since when) and paused', async () => {
    // The silent host is down once serve has lost 3 rounds to it.
    await expect.poll(async () => (await api<TargetOut>('GET', `/targets/${ids.silent}`)).state, { timeout: 20_000, interval: 500 }).toBe('down')

    const page = await signedIn('admin', PASSWORD)
    const encodings = new Map<string, string | undefined>()
    page.on('response', (r) => {
      const p = new URL(r.url()).pathname
      if (p === '/targets/' || p.endsWith('.js')) encodings.set(p === '/targets/' ? 'targets' : 'js', r.headers()['content-encoding'])
    })
    await page.reload()
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, FLEET_READY_MARK)
    // Chromium accepts br: the target list and the bundle came compressed.
    expect(['br', 'gzip']).toContain(encodings.get('targets'))
    expect(['br', 'gzip']).toContain(encodings.get('js'))

    const expected = { 'loop-up': 'up', lossy: 'degraded', silent: 'down', 'seed-paused': 'paused' }
    const listed = await api<TargetOut[]>('GET', '/targets/')
    for (const [name, state] of Object.entries(expected)) {
      // The API first, then the fleet must follow it (a change reaches it by the live stream).
      expect(listed.find((t) => t.name === name)!.state, name).toBe(state)
      await expect.poll(() => row(page, name).getAttribute('data-status'), { timeout: 15_000 }).toBe(state)
    }
    // Down: since when, on the row; its sparkline is a wall of loss, not "no data".
    const down = listed.find((t) => t.name === 'silent')!
    await expect.poll(() => row(page, 'silent').getByTestId('down-since').textContent()).toMatch(/^since \d\d:\d\d:\d\d UTC \((\d+ s|\d+ min)\)$/)
    expect(await row(page, 'silent').getByTestId('down-since').textContent()).toContain(down.state_since.slice(11, 19))
    expect(await row(page, 'silent').locator('svg.sparkline').getAttribute('data-max-loss')).toBe('1')
    expect(await row(page, 'silent').locator('svg.sparkline rect.spark-loss').count()).toBeGreaterThan(5)
    expect(await row(page, 'silent').getByText('no data').count()).toBe(0)
    expect(await row(page, 'loop-up').getByTestId('down-since').count()).toBe(0)
    await page.screenshot({ path: path.join(RESULTS, `web-state-fleet-${engine}.png`) })

    for (const [name, state] of Object.entries(expected)) {
      await row(page, name).getByRole('link', { name, exact: true }).click()
      await page.getByRole('heading', { name }).waitFor()
      const api1 = await api<TargetOut>('GET', `/targets/${ids[name]}`)
      expect(api1.state, name).toBe(state)
      await expect.poll(() => page.getByTestId('target-status').textContent(), { timeout: 15_000 }).toBe(state)
      const since = await page.getByTestId('state-since').textContent()
      expect(since, name).toBe(`since ${api1.state_since.slice(0, 19).replace('T', ' ')} UTC (${since!.split('(')[1]}`)
      if (name === 'silent') await page.screenshot({ path: path.join(RESULTS, `web-state-down-${engine}.png`) })
      await page.getByRole('link', { name: 'Fleet', exact: true }).first().click()
      await row(page, name).waitFor()
    }
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('asks before resuming a documentation address, and says why a traceroute failed in words', async () => {
    const page = await signedIn('admin', PASSWORD)
    await row(page, 'seed-paused').getByRole('link', { name: 'seed-paused', exact: true }).click()
    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Resume seed-paused?' })
    await dialog.getByText('203.0.113.7 is a documentation address').waitFor()
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect((await api<TargetOut>('GET', `/targets/${ids['seed-paused']}`)).state).toBe('paused')

    // A loopback target: its traceroute fails with a reason in words; it resumes without a question.
    await page.getByRole('link', { name: 'Fleet', exact: true }).first().click()
    await row(page, 'loop-up').getByRole('link', { name: 'loop-up', exact: true }).click()
    h.expectHttpError(503, `/targets/${ids['loop-up']}/traceroute`)
    await page.getByRole('button', { name: 'Run traceroute' }).click()
    const failed = page.getByTestId('traceroute-error')
    await expect.poll(() => failed.textContent()).toContain('Traceroute failed: traceroute is not installed on the server')
    await failed.getByText('Server message').click()
    await failed.getByText('Traceroute binary not found on host').waitFor()
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await page.getByTestId('target-status').getByText('paused').waitFor()
    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor()
    expect(await page.getByRole('dialog').count()).toBe(0)

    // Admins see whose tokens they are.
    await page.getByRole('link', { name: 'Users & tokens' }).click()
    await page.getByRole('cell', { name: 'noc-grafana' }).waitFor()
    expect(await page.locator('tr', { hasText: 'noc-grafana' }).locator('td').nth(2).textContent()).toBe(VIEWER.username)
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('shows every target’s events on one timeline: the real outage with its cause in words, filters in the URL, live updates', async () => {
    const page = await signedIn('admin', PASSWORD)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click()
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor()
    const items = page.getByTestId('timeline-event')
    const typesShown = () => items.evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))
    // The silent host's outage, opened by serve's own scheduler, with its cause in words.
    const outage = items.filter({ hasText: 'silent' }).and(page.locator('[data-type="outage_open"]'))
    await outage.first().waitFor()
    expect(await outage.first().textContent()).toContain('consecutive rounds lost, no reply before the timeout')
    // The same events, in the same order, as the API's timeline (the earlier tests paused and resumed loop-up).
    const fromApi = await api<TimelineEventOut[]>('GET', '/events?limit=100')
    expect(fromApi.map((e) => e.event_type)).toEqual(expect.arrayContaining(['outage_open', 'stop', 'start']))
    await expect.poll(typesShown).toEqual(fromApi.map((e) => e.event_type))

    // A type filter lives in the URL: a reload keeps it, Back drops it.
    await page.getByRole('button', { name: 'Outages', exact: true }).click()
    await expect.poll(() => new URL(page.url()).searchParams.get('types')).toBe('outages')
    await expect.poll(typesShown).toEqual(fromApi.filter((e) => e.event_type.startsWith('outage_')).map((e) => e.event_type))
    await page.reload()
    await expect.poll(() => page.getByRole('button', { name: 'Outages', exact: true }).getAttribute('aria-pressed')).toBe('true')
    await expect.poll(typesShown).toEqual(fromApi.filter((e) => e.event_type.startsWith('outage_')).map((e) => e.event_type))
    await page.goBack()
    await expect.poll(() => new URL(page.url()).searchParams.get('types')).toBeNull()
    await expect.poll(async () => (await typesShown()).length).toBe(fromApi.length)

    // A change made elsewhere appears without a reload (live stream, else the 30 s refresh).
    await api('PATCH', `/targets/${ids['seed-paused']}`, { notes: 'moved to rack 7' })
    await items.filter({ hasText: 'seed-paused' }).and(page.locator('[data-type="updated"]')).waitFor({ timeout: 45_000 })
    await page.screenshot({ path: path.join(RESULTS, `events-${engine}.png`), fullPage: true })

    // Its target link opens the target page.
    await outage.first().getByRole('link', { name: 'silent', exact: true }).click()
    await page.getByTestId('target-status').getByText('down').waitFor()
    expect(new URL(page.url()).pathname).toBe(`/target/${ids.silent}`)
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('shows a viewer the same states and no write action', async () => {
    const page = await signedIn(VIEWER.username, VIEWER.password)
    await expect.poll(() => row(page, 'silent').getAttribute('data-status')).toBe('down')
    expect(await page.locator('.page-head').getByRole('link', { name: 'Add targets' }).count()).toBe(0)
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Add targets' }).count()).toBe(0)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).waitFor()

    await row(page, 'seed-paused').getByRole('link', { name: 'seed-paused', exact: true }).click()
    await page.getByTestId('target-status').getByText('paused').waitFor()
    await page.getByRole('button', { name: 'Export CSV' }).waitFor() // reading is allowed
    for (const name of ['Edit', 'Pause', 'Resume', 'Delete', 'Run traceroute']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0)
    }
    await page.getByRole('link', { name: 'API tokens' }).click()
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor()
    await page.getByRole('cell', { name: 'noc-grafana' }).waitFor() // their own, listed
    for (const name of ['Create token', 'Revoke']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0)
    }
    await page.screenshot({ path: path.join(RESULTS, `web-state-viewer-${engine}.png`) })
    expect(unexpectedConsoleErrors()).toEqual([])
  })
})
