// Sites in the dashboard, in Chromium (issue 12): the fleet's Sites column and site filter (kept in the
// URL), and on the target page one p50 line and one breakdown row per site, a Site column in the newest
// samples, and a site picker that shows what one site measured. The built `pingscope serve` on a data directory holding the last 2.5 hours of
// three paused 60 s targets (documentation addresses: never probed), written as two sites' probes write
// them: `fra` measured 10 ms, `nyc` 40 ms to the same target. Any console error fails the test. The
// per-site insights themselves are asserted in test/api (both engines); here, what the pages make of them.
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionInitScript } from '../../scripts/bench/fleet.js'
import { insertSamples } from '../../src/probe/writer.js'
import { DashboardHarness, RESULTS } from '../helpers/browser.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { minuteRounds } from '../helpers/samples.js'

const FRA_US = 10_000
const NYC_US = 40_000
const DEFAULT_US = 5_000

interface Plot {
  labels: string[]
  data: (number | null)[][]
}

/** The latency chart's series labels and data, from the uPlot instance the chart leaves on its element. */
const readPlot = `(() => {
  const u = document.querySelector('[data-testid=latency-chart]')?.uplot
  return u ? { labels: u.series.map((s) => String(s.label ?? '')), data: u.data.map((xs) => Array.from(xs)) } : null
})()`

const median = (xs: (number | null)[]) => {
  const s = xs.filter((v): v is number => v !== null).sort((a, b) => a - b)
  return s.length ? s[Math.floor(s.length / 2)]! : NaN
}

describe.each(ENGINES)('sites in the dashboard (%s engine)', (engine) => {
  let store: TestStore
  let h: DashboardHarness
  let page: Page
  const ids: Record<string, number> = {}

  const plot = () => page.evaluate<Plot | null>(readPlot)
  const series = async (label: string) => {
    const p = (await plot())!
    const i = p.labels.indexOf(label)
    return i < 0 ? null : p.data[i]!
  }
  const fleetRows = () => page.locator('tr[data-target-id]')
  const row = (name: string) => page.locator('tr[data-target-id]', { has: page.getByRole('link', { name, exact: true }) })

  beforeAll(async () => {
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    const sites = await db.sql<{ id: number; name: string }[]>`insert into sites (name) values ('fra'), ('nyc') returning id, name`
    const site = Object.fromEntries(sites.map((s) => [s.name, s.id]))
    const targets = await db.sql<{ id: number; name: string }[]>`
      insert into targets (address, name, tags, interval_s, packets, enabled, sites)
      values ('192.0.2.70', 'two-sites', '{edge}', 60, 5, false, '{fra,nyc}'),
             ('192.0.2.71', 'fra-only', '{edge}', 60, 5, false, '{fra}'),
             ('192.0.2.72', 'everywhere', '{core}', 60, 5, false, null)
      returning id, name`
    for (const t of targets) ids[t.name] = t.id
    const jitter = (k: number, e: number) => (k * 7 + e * 3) % 200
    await insertSamples(db.sql, minuteRounds(ids['two-sites']!, 150, (k, e) => FRA_US + jitter(k, e)), site.fra)
    await insertSamples(db.sql, minuteRounds(ids['two-sites']!, 150, (k, e) => (k % 10 === 3 && e === 0 ? null : NYC_US + jitter(k, e))), site.nyc)
    await insertSamples(db.sql, minuteRounds(ids['fra-only']!, 150, (k, e) => FRA_US + jitter(k, e)), site.fra)
    await insertSamples(db.sql, minuteRounds(ids.everywhere!, 150, (k, e) => DEFAULT_US + jitter(k, e)))
    await db.destroy({ keep: true })

    h = await DashboardHarness.start(store)
    const session = await h.session()
    page = await h.page({ initScripts: [sessionInitScript(session.access_token, session.expires_in)] })
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
  })

  it('lists each target’s sites in the fleet and filters by site, the filter kept in the URL', async () => {
    await page.goto(`${h.url}/`)
    await expect.poll(() => fleetRows().count()).toBe(3)
    await expect.poll(() => row('two-sites').locator('td.col-sites').textContent()).toBe('fra, nyc')
    expect(await row('everywhere').locator('td.col-sites').textContent()).toBe('all')
    expect(await row('fra-only').locator('td.col-sites').textContent()).toBe('fra')
    const options = await page.getByLabel('Site', { exact: true }).locator('option').allTextContents()
    expect(options).toEqual(['any site', 'default', 'fra', 'nyc'])

    // nyc probes the target that lists it and the one probed from every site, not fra-only.
    await page.getByLabel('Site', { exact: true }).selectOption('nyc')
    await expect.poll(() => fleetRows().count()).toBe(2)
    expect(await row('fra-only').count()).toBe(0)
    expect(new URL(page.url()).searchParams.get('site')).toBe('nyc')
    await page.reload()
    await expect.poll(() => fleetRows().count()).toBe(2)
    expect(await page.getByLabel('Site', { exact: true }).inputValue()).toBe('nyc')
    // Sorting by sites: the listed ones by name, "every site" last.
    await page.getByLabel('Site', { exact: true }).selectOption('')
    await page.getByRole('button', { name: 'Sites', exact: true }).click()
    await expect.poll(async () => (await fleetRows().locator('td.col-name').allTextContents()).join(',')).toBe('fra-only,two-sites,everywhere')
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('draws one p50 line and one breakdown row per site, and shows one site’s figures when picked', async () => {
    await page.goto(`${h.url}/target/${ids['two-sites']}`)
    await expect.poll(async () => (await plot())?.labels.join(',') ?? '').toContain('p50 fra,p50 nyc')
    const fra = (await series('p50 fra'))!
    const nyc = (await series('p50 nyc'))!
    const all = (await series('p50'))!
    // Each line is its own site's median; the combined one lies between them.
    expect(median(fra)).toBeGreaterThan(FRA_US / 1000 - 0.5)
    expect(median(fra)).toBeLessThan(FRA_US / 1000 + 0.5)
    expect(median(nyc)).toBeGreaterThan(NYC_US / 1000 - 0.5)
    expect(median(nyc)).toBeLessThan(NYC_US / 1000 + 0.5)
    expect(fra.filter((v) => v !== null).length).toBeGreaterThanOrEqual(59)
    expect(median(all)).toBeGreaterThan(median(fra))
    expect(median(all)).toBeLessThan(median(nyc))

    const breakdown = page.getByRole('table', { name: 'Per site' })
    await expect.poll(() => breakdown.locator('tbody tr').count()).toBe(2)
    // nyc lost one echo in 50; fra none.
    expect(await breakdown.locator('tr[data-site=fra] td').nth(1).textContent()).toMatch(/^0(\.0+)? ?%$/)
    expect(await breakdown.locator('tr[data-site=nyc] td').nth(1).textContent()).toMatch(/^[1-3]\.\d+ ?%$/)
    // The newest samples say which site measured each.
    const samples = page.getByRole('table', { name: 'Latest samples' })
    const sampleSites = async () => new Set(await samples.locator('tbody tr td:nth-child(2)').allTextContents())
    await expect.poll(async () => [...(await sampleSites())].sort().join(',')).toBe('fra,nyc')
    await page.screenshot({ path: path.join(RESULTS, `web-sites-${engine}.png`), fullPage: true })

    // One site: its smoke alone, no site lines, the figures its own; in the URL.
    await breakdown.getByRole('button', { name: 'nyc' }).click()
    await page.waitForURL(/[?&]site=nyc/)
    await expect.poll(async () => median((await series('p50')) ?? [])).toBeGreaterThan(NYC_US / 1000 - 0.5)
    expect(await series('p50 fra')).toBeNull()
    expect(await breakdown.count()).toBe(0)
    await expect.poll(async () => [...(await sampleSites())].join(',')).toBe('nyc')
    expect(await page.getByLabel('Site', { exact: true }).inputValue()).toBe('nyc')
    await page.getByLabel('Site', { exact: true }).selectOption('')
    await expect.poll(async () => (await plot())?.labels.join(',') ?? '').toContain('p50 fra,p50 nyc')
    expect(new URL(page.url()).searchParams.has('site')).toBe(false)

    // Probed from one site only: nothing to pick, no lines per site.
    await page.goto(`${h.url}/target/${ids['fra-only']}`)
    await expect.poll(async () => (await plot())?.labels.includes('p50') ?? false).toBe(true)
    expect((await plot())!.labels.some((l) => l.startsWith('p50 '))).toBe(false)
    expect(await page.getByLabel('Site', { exact: true }).count()).toBe(0)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })
})
