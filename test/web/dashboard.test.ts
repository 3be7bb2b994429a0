// The dashboard end to end: the built `pingscope serve` on an embedded data directory with 30 days of
// seeded history (documentation addresses, paused: never probed), live loopback targets and a target at
// the end of the network lab's router chain, driven through Debian's Chromium by playwright-core.
// Any console error fails the test, except the network log lines of the few 4xx answers a step
// provokes on purpose (listed with the step). Screenshots go to test-results/.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FLEET_READY_MARK, insertFleet, measureFleet } from '../../scripts/bench/fleet.js'
import { seedHistory } from '../../src/seed/seed.service.js'
import { CSV_COLUMNS } from '../../src/samples/export.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { ADMIN_PASSWORD, DashboardHarness, RESULTS } from '../helpers/browser.js'


describe.each(ENGINES)('web dashboard in Chromium (%s engine)', (engine) => {
  let store: TestStore
  let lab: Lab
  let h: DashboardHarness
  let url: string
  let page: Page
  let token: string
  const ids: Record<string, number> = {}

  const api = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    })
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }
  /** The status of a request, its body read: an unread body keeps the connection busy and delays the server's stop. */
  const statusOf = async (p: string, headers: Record<string, string> = {}): Promise<number> => {
    const res = await fetch(`${url}${p}`, { headers })
    await res.arrayBuffer()
    return res.status
  }
  const row = (name: string) => page.locator('tr[data-target-id]', { has: page.getByRole('link', { name, exact: true }) })
  const unexpectedConsoleErrors = () => h.unexpectedConsoleErrors()

  beforeAll(async () => {
    lab = await startLab(['chain'])
    // History first, with serve not running: the seed owns the engine meanwhile.
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    const seeded = await seedHistory(db.sql, { targets: 3, days: 30, intervalS: 300, packets: 5, loss: 0.01, seed: 6 })
    seeded.targets.forEach((t, i) => (ids[`seed-${i + 1}`] = t.id))
    const live = await db.sql<{ id: number; name: string }[]>`
      insert into targets (address, name, tags, interval_s, packets)
      values ('127.0.7.1', 'loop-a', '{lab,loopback}', 1, 2), ('127.0.7.2', 'loop-b', '{lab,loopback}', 1, 2),
             (${lab.chain.end}, 'chain-end', '{lab}', 5, 1)
      returning id, name`
    for (const t of live) ids[t.name] = t.id
    await db.destroy({ keep: true })

    h = await DashboardHarness.start(store)
    ;({ url, token } = h)
    page = await h.page({ timezoneId: null, acceptDownloads: true })
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
    await lab?.stop()
  })

  it('serves the dashboard next to the API, and the fleet summary in one request', async () => {
    const index = await fetch(`${url}/target/${ids['seed-1']}`, { headers: { accept: 'text/html' } })
    expect(index.status).toBe(200)
    expect(await index.text()).toContain('<div id="root">')
    // API routes and the API docs are untouched.
    expect(await statusOf(`/targets/${ids['seed-1']}`, { accept: 'text/html' })).toBe(401)
    expect(await statusOf('/docs/json')).toBe(200)
    expect(await statusOf('/fleet/summary')).toBe(401)

    const summary = await api<{ bucket_seconds: number; targets: { target_id: number; sent: number; loss_percent: number; p95_latency_ms: number; spark_latency_ms: unknown[] }[] }>(
      'GET',
      '/fleet/summary',
    )
    expect(summary.bucket_seconds).toBe(180)
    const s = summary.targets.find((t) => t.target_id === ids['seed-1'])!
    // 5 echoes every 300 s for an hour (the seed ends now).
    expect(s.sent).toBeGreaterThanOrEqual(50)
    expect(s.p95_latency_ms).toBeGreaterThan(0)
    expect(s.spark_latency_ms).toHaveLength(20)
  })

  it('logs in and shows the fleet, with live targets coming up', async () => {
    await page.goto(`${url}/`)
    await page.getByLabel('Username').fill('admin')
    await page.getByLabel('Password').fill(ADMIN_PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Fleet' }).waitFor()
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, FLEET_READY_MARK)
    await expect.poll(() => page.locator('tr[data-target-id]').count()).toBe(6)
    expect(await row('seed-1').getAttribute('data-status')).toBe('paused')
    // Probed every second: up once the API's state says so (states are read every 5 s for the live
    // stream, and the list is read again on a change): within seconds, more on a loaded machine.
    await row('loop-a').and(page.locator('[data-status=up]')).waitFor({ timeout: 45_000 })
    await row('chain-end').and(page.locator('[data-status=up]')).waitFor({ timeout: 45_000 })
    await expect.poll(() => row('seed-1').locator('svg.sparkline').count()).toBe(1)

    // Search, tag filter, sort.
    await page.getByLabel('Search').fill('seed')
    await expect.poll(() => page.locator('tr[data-target-id]').count()).toBe(3)
    await page.getByLabel('Search').fill('')
    await page.getByLabel('Tag').selectOption('loopback')
    await expect.poll(() => page.locator('tr[data-target-id]').count()).toBe(2)
    await page.getByLabel('Tag').selectOption('')
    await page.getByRole('button', { name: 'Name', exact: true }).click()
    await page.getByRole('button', { name: 'Name', exact: true }).click()
    expect(await page.locator('th[aria-sort=descending]').textContent()).toContain('Name')
    expect(await page.locator('tr[data-target-id] td.col-name').first().textContent()).toBe('seed-3')
    await page.getByRole('button', { name: 'Status', exact: true }).click()
    await page.screenshot({ path: path.join(RESULTS, 'web-fleet.png') })
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('opens a target, switches ranges across the tiers and zooms by dragging', async () => {
    await page.getByRole('link', { name: 'seed-1', exact: true }).click()
    await page.waitForURL(`${url}/target/${ids['seed-1']}`)
    await page.locator('[data-testid=latency-chart] canvas').first().waitFor()
    await page.getByText('raw samples', { exact: false }).waitFor()
    const meta = page.getByTestId('insights-meta')
    for (const [range, tier] of [['30 d', '1h rollups'], ['7 d', '1m rollups'], ['24 h', '1m rollups'], ['6 h', 'raw samples'], ['15 m', 'raw samples']]) {
      await page.getByRole('button', { name: range, exact: true }).click()
      await expect.poll(() => meta.textContent()).toContain(tier)
      expect(await page.getByRole('button', { name: range, exact: true }).getAttribute('aria-pressed')).toBe('true')
    }
    expect(await page.locator('.stat dt', { hasText: 'MOS' }).count()).toBe(1)

    await page.getByRole('button', { name: '7 d', exact: true }).click()
    await expect.poll(() => meta.textContent()).toContain('1 h buckets')
    // Drag across a fifth of the latency chart: about 33 hours, answered in finer buckets.
    const over = page.locator('[data-testid=latency-chart] .u-over')
    const box = (await over.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 })
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.getByRole('button', { name: 'Reset zoom' }).waitFor()
    await expect.poll(() => meta.textContent()).toMatch(/1m rollups, (10|15|30) min buckets/)
    expect(await page.locator('.range-bar button[aria-pressed=true]').count()).toBe(0)
    await page.getByRole('button', { name: '24 h', exact: true }).click()
    await page.screenshot({ path: path.join(RESULTS, 'web-target.png'), fullPage: true })
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('exports the window as CSV with the bearer token', async () => {
    await page.getByRole('button', { name: '1 h', exact: true }).click()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()])
    expect(download.suggestedFilename()).toBe(`pingscope-target-${ids['seed-1']}-logs.csv`)
    const lines = readFileSync((await download.path())!, 'utf8').split('\r\n')
    expect(lines[0]).toBe(CSV_COLUMNS.join(','))
    expect(lines.length).toBeGreaterThan(10) // 5 echoes every 5 minutes over the hour
    await page.getByRole('status').filter({ hasText: 'Saved pingscope-target-' }).waitFor()
  })

  it('runs a traceroute through the lab chain and shows its hops', async () => {
    // A deep link: the server answers the page route with the dashboard.
    await page.goto(`${url}/target/${ids['chain-end']}`)
    await page.getByRole('heading', { name: 'chain-end' }).waitFor()
    await page.getByRole('button', { name: 'Run traceroute' }).click()
    const result = page.getByTestId('traceroute-result')
    await result.getByText(/reached in \d+ hops/).waitFor({ timeout: 40_000 })
    const hops = await result.locator('tbody tr td:nth-child(2)').allTextContents()
    expect(hops.length).toBeGreaterThanOrEqual(4)
    expect(hops.at(-1)).toBe(lab.chain.end)
    expect(hops.slice(0, -1)).toEqual(expect.arrayContaining(lab.chain.hops.slice(0, -1)))
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('adds a target with a bad address and shows the API field error under the field', async () => {
    await page.getByRole('link', { name: 'Add targets' }).first().click()
    await page.getByRole('heading', { name: 'Add a target' }).waitFor()
    h.expectHttpError(422, '/targets/')
    const form = page.getByRole('region', { name: 'Add a target' })
    const address = form.getByLabel('Address (IPv4, IPv6 or hostname)')
    await address.fill('192.0.2.1/33')
    await form.getByRole('button', { name: 'Add target' }).click()
    const error = form.locator('.field-invalid', { has: page.getByLabel('Address (IPv4, IPv6 or hostname)') }).locator('.field-error')
    await expect.poll(() => error.textContent()).toContain('not a valid IPv4 or IPv6 address')
    expect(await address.getAttribute('aria-invalid')).toBe('true')
    // Focus moves to the first field in error.
    await expect.poll(() => page.evaluate("document.activeElement?.getAttribute('name')")).toBe('ip')
    // A schema error names its field too.
    await address.fill('127.0.7.9')
    await form.getByLabel('Interval (s)').fill('5000')
    await form.getByRole('button', { name: 'Add target' }).click()
    await expect.poll(() => form.locator('.field-invalid', { has: page.getByLabel('Interval (s)') }).textContent()).toMatch(/3600/)
    expect(await page.getByText(/unreachable/i).count()).toBe(0)

    // Import: each line is its own request, and says what the API said about it.
    await page.getByLabel('One target per line: address, name, tags').fill('127.0.7.20, imported, lab\n# a comment\n10.0.0.1/40, broken')
    await page.getByRole('button', { name: 'Import' }).click()
    await page.getByText('1 added, 1 refused').waitFor()
    await page.locator('.import-results li', { hasText: 'line 3' }).getByText(/ip: value is not a valid/).waitFor()
    const listed = await api<{ ip: string; name: string }[]>('GET', '/targets/')
    expect(listed.some((t) => t.ip === '127.0.7.9')).toBe(false)
    expect(listed.find((t) => t.ip === '127.0.7.20')?.name).toBe('imported')
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('shows a pause made elsewhere live, and pauses, resumes and deletes from the page', async () => {
    await page.getByRole('link', { name: 'Fleet', exact: true }).click()
    await row('loop-a').and(page.locator('[data-status=up]')).waitFor()
    // Another user pauses it: the fleet follows without a reload.
    await api('POST', `/targets/${ids['loop-a']}/pause`)
    await row('loop-a').and(page.locator('[data-status=paused]')).waitFor({ timeout: 10_000 })

    await page.getByRole('link', { name: 'loop-b', exact: true }).click()
    await page.getByTestId('target-status').getByText('up').waitFor()
    // Edit, with the API's field error shown in the dialog first.
    h.expectHttpError(422, `/targets/${ids['loop-b']}`)
    await page.getByRole('button', { name: 'Edit', exact: true }).click()
    const edit = page.getByRole('dialog', { name: 'Edit loop-b' })
    await edit.getByLabel('Tags').fill('lab bad!tag')
    await edit.getByLabel('Notes').fill('rack 4')
    await edit.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => edit.locator('.field-invalid', { has: page.getByLabel('Tags') }).textContent()).toContain('letters, digits')
    await edit.getByLabel('Tags').fill('lab edge')
    await edit.getByRole('button', { name: 'Save' }).click()
    await edit.waitFor({ state: 'hidden' })
    await page.locator('.notes', { hasText: 'rack 4' }).waitFor()
    await page.getByRole('button', { name: 'Pause', exact: true }).click()
    await page.getByTestId('target-status').getByText('paused').waitFor()
    await page.getByRole('button', { name: 'Resume', exact: true }).click()
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor()
    // Delete asks first; Cancel keeps it.
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete loop-b?' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await dialog.getByRole('button', { name: 'Delete target' }).click()
    await page.waitForURL(`${url}/`)
    await expect.poll(() => row('loop-b').count()).toBe(0)
    expect(await statusOf(`/targets/${ids['loop-b']}`, { authorization: `Bearer ${token}` })).toBe(404)
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('manages API tokens, switches theme, and signs out; an expired session returns to login', async () => {
    await page.getByRole('link', { name: 'Users & tokens' }).click()
    await page.getByRole('heading', { name: 'Users and API tokens' }).waitFor()
    await page.locator('form', { hasText: 'New token' }).getByLabel('Name').fill('grafana')
    await page.getByRole('button', { name: 'Create token' }).click()
    await expect.poll(() => page.getByTestId('new-token').textContent()).toMatch(/^pst_/)
    await page.getByRole('cell', { name: 'grafana' }).waitFor()

    const theme = await page.evaluate('document.documentElement.dataset.theme')
    await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click()
    expect(await page.evaluate('document.documentElement.dataset.theme')).not.toBe(theme)

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('You have signed out.').waitFor()

    // A session the server no longer accepts (expired, revoked, user disabled): back to the login.
    h.expectHttpError(401, '/auth/me')
    await page.evaluate(`localStorage.setItem('pingscope.session', JSON.stringify({ token: 'expired.jwt.token', expiresAt: Date.now() + 3600e3 }))`)
    await page.goto(`${url}/target/${ids['seed-1']}`)
    await page.getByText('Your session expired. Please sign in again.').waitFor()
    await page.getByLabel('Username').fill('admin')
    await page.getByLabel('Password').fill(ADMIN_PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'seed-1' }).waitFor() // where it was
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('renders the API docs under the security policy without a violation', async () => {
    const before = unexpectedConsoleErrors().length
    const res = await page.goto(`${url}/docs/`)
    expect(res!.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
    await page.getByText('pingscope API').first().waitFor()
    await page.getByText('/targets/').first().waitFor() // the operations rendered from the OpenAPI document
    // a blocked script, style or request would show here as "Refused to …"
    expect(unexpectedConsoleErrors().slice(before)).toEqual([])
  })

  it('lists 1,000 more targets quickly (the benchmark, in the test)', async () => {
    const db = await openTestDatabase({ engine, store, migrate: false })
    try {
      await insertFleet(db.sql, 1000, { paused: true })
    } finally {
      await db.destroy({ keep: true })
    }
    const t = await measureFleet(page, url, 1000)
    console.log(
      `fleet of ${t.rows} targets: interactive ${t.interactiveMs.toFixed(0)} ms, ready ${t.readyMs.toFixed(0)} ms, search ${t.searchMs.toFixed(0)} ms, sort ${t.sortMs.toFixed(0)} ms`,
    )
    // The 2 s goal is measured by scripts/bench/fleet.ts on a quiet machine; here other test files share
    // the two cores, so this only guards against a regression by a wide margin.
    expect(t.interactiveMs).toBeLessThan(5000)
    expect(t.searchMs).toBeLessThan(500)
    expect(unexpectedConsoleErrors()).toEqual([])
  })
})
