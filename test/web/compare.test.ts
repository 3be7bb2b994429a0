// Compare (issue 14) in Chromium against the built `pingscope serve`, on both engines: targets picked in
// the fleet (the selection in the URL, kept by a reload and by Back), at most eight of them, and the
// compare page drawing one median line per target for one window, with its legend figures; a deleted,
// repeated or malformed id is named in a message while the others still draw. The targets are paused
// documentation addresses (never probed) whose last 90 minutes of samples are written here directly.
// Any console error fails the test. Screenshot: test-results/compare.png.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Sample, insertSamples } from '../../src/probe/writer.js'
import { ADMIN_PASSWORD, DashboardHarness } from '../helpers/browser.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { minuteRounds } from '../helpers/samples.js'
import { ENGINES } from '../helpers/engines.js'

/** The compared targets' constant RTTs: their medians, to the microsecond. */
const RTT_MS = { 'cmp-a': 1, 'cmp-b': 5, 'cmp-c': 20 } as const
const FILLERS = ['filler-1', 'filler-2', 'filler-3', 'filler-4', 'filler-5', 'filler-6', 'filler-7']

const rounds = (targetId: number, reply: (round: number, echo: number) => number | null): Sample[] => minuteRounds(targetId, 90, reply)

/** The chart's uPlot instances, read in the page (this file is compiled without the DOM types). */
const plot = (page: Page, which: 'compare' | 'compare-loss') =>
  page.evaluate<{ labels: string[]; data: (number | null | undefined)[][]; yDistr: number } | null>(`(() => {
    const u = document.querySelector('[data-testid=${which}-chart]')?.uplot
    if (!u) return null
    return { labels: u.series.map((s) => String(s.label ?? '')), data: u.data.map((xs) => Array.from(xs)), yDistr: u.scales.y?.distr ?? 0 }
  })()`)

/** Each drawn line's distinct values, by target name. */
async function medians(page: Page): Promise<Record<string, number[]>> {
  const p = await plot(page, 'compare')
  if (!p) return {}
  return Object.fromEntries(p.labels.slice(1).map((l, i) => [l, [...new Set(p.data[i + 1]!.filter((v): v is number => typeof v === 'number'))]]))
}

describe.each(ENGINES)('compare targets in Chromium (%s engine)', (engine) => {
  let store: TestStore
  let h: DashboardHarness
  let page: Page
  const ids: Record<string, number> = {}

  const checkbox = (name: string) => page.getByLabel(`Select ${name}`, { exact: true })
  const compareButton = () => page.getByRole('button', { name: /^Compare \(\d+\)$/ })
  const selParam = () => new URL(page.url()).searchParams.get('sel')
  const legendRow = (name: string) => page.locator('.compare-legend tbody tr', { has: page.getByRole('link', { name, exact: true }) })
  const figure = (name: string, f: string) => legendRow(name).locator(`[data-figure=${f}]`).textContent()

  beforeAll(async () => {
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    const names = [...Object.keys(RTT_MS), ...FILLERS]
    for (const [i, name] of names.entries()) {
      const [t] = await db.sql<{ id: number }[]>`
        insert into targets (address, name, tags, interval_s, packets, enabled)
        values (${`192.0.2.${120 + i}`}, ${name}, '{compare}', 60, 5, false) returning id`
      ids[name] = t!.id
    }
    await insertSamples(db.sql, rounds(ids['cmp-a']!, () => RTT_MS['cmp-a'] * 1000))
    await insertSamples(db.sql, rounds(ids['cmp-b']!, () => RTT_MS['cmp-b'] * 1000))
    // C also loses one echo of five.
    await insertSamples(db.sql, rounds(ids['cmp-c']!, (_k, e) => (e === 2 ? null : RTT_MS['cmp-c'] * 1000)))
    await db.destroy({ keep: true })
    h = await DashboardHarness.start(store)
    page = await h.signedIn('admin', ADMIN_PASSWORD)
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
  })

  it('keeps the selection in the URL across reload, opens Compare with one median per target, and Back returns to it', async () => {
    await expect.poll(() => page.locator('tr[data-target-id]').count()).toBe(10)
    await expect(compareButton().isDisabled()).resolves.toBe(true)
    await checkbox('cmp-a').check()
    await checkbox('cmp-b').check()
    // Keyboard: the box takes focus and Space ticks it.
    await checkbox('cmp-c').focus()
    await page.keyboard.press('Space')
    await expect.poll(selParam).toBe(`${ids['cmp-a']},${ids['cmp-b']},${ids['cmp-c']}`)
    expect(await compareButton().textContent()).toBe('Compare (3)')

    await page.reload()
    await page.getByRole('heading', { name: 'Fleet' }).waitFor()
    await expect.poll(() => checkbox('cmp-c').isChecked()).toBe(true)
    for (const n of ['cmp-a', 'cmp-b']) expect(await checkbox(n).isChecked()).toBe(true)
    expect(await checkbox('filler-1').isChecked()).toBe(false)
    const fleetUrl = page.url()
    await h.screenshot(page, 'compare-fleet-selection.png')

    await compareButton().click()
    await page.waitForURL(/\/compare\?/)
    expect(new URL(page.url()).searchParams.get('ids')).toBe(`${ids['cmp-a']},${ids['cmp-b']},${ids['cmp-c']}`)
    await page.locator('[data-testid=compare-chart] canvas').first().waitFor()
    // One line per target, each at the RTT written (the last hour: raw samples, exact medians).
    await expect.poll(() => medians(page)).toEqual({ 'cmp-a': [1], 'cmp-b': [5], 'cmp-c': [20] })
    const lat = (await plot(page, 'compare'))!
    expect(lat.data[1]!.filter((v) => typeof v === 'number').length).toBeGreaterThanOrEqual(59)
    expect(await page.getByTestId('compare-meta').textContent()).toContain('raw samples, 1 min buckets')
    // The legend: name (a link to the target), address, state and the window's figures.
    await expect.poll(() => page.locator('.compare-legend tbody tr').count()).toBe(3)
    expect(await figure('cmp-a', 'p50')).toBe('1.00 ms')
    expect(await figure('cmp-b', 'p50')).toBe('5.00 ms')
    expect(await figure('cmp-c', 'p50')).toBe('20.0 ms')
    expect(await figure('cmp-c', 'p99')).toBe('20.0 ms')
    expect(await figure('cmp-a', 'loss')).toBe('0.00 %')
    const cLoss = parseFloat((await figure('cmp-c', 'loss'))!)
    expect(cLoss).toBeGreaterThan(15)
    expect(cLoss).toBeLessThan(25)
    expect(await legendRow('cmp-b').getByRole('link').getAttribute('href')).toBe(`/target/${ids['cmp-b']}`)
    expect(await legendRow('cmp-b').locator('td').first().textContent()).toBe('192.0.2.121')
    expect(await legendRow('cmp-b').locator('.status').textContent()).toBe('paused')
    // C's loss plot: about 20 % in each bucket; A's: none.
    const loss = (await plot(page, 'compare-loss'))!
    expect(new Set(loss.data[1]!.filter((v) => typeof v === 'number'))).toEqual(new Set([0]))
    expect(loss.data[3]!.filter((v) => typeof v === 'number' && v > 0).length).toBeGreaterThanOrEqual(55)
    // The cursor over the plot: the legend shows each target's median there.
    const box = (await page.locator('[data-testid=compare-chart] .u-over').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5)
    await expect.poll(() => figure('cmp-b', 'cursor')).toBe('5.00 ms')
    await h.screenshot(page, 'compare.png')
    await page.mouse.move(0, 0)

    // A reload of /compare is served the app, and the page again.
    await page.reload()
    await expect.poll(() => medians(page)).toEqual({ 'cmp-a': [1], 'cmp-b': [5], 'cmp-c': [20] })

    await page.goBack()
    await page.waitForURL(fleetUrl)
    await expect.poll(() => checkbox('cmp-b').isChecked()).toBe(true)
    expect(selParam()).toBe(`${ids['cmp-a']},${ids['cmp-b']},${ids['cmp-c']}`)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('has range, zoom and log scale in the URL, as the target page', async () => {
    await page.goto(`${h.url}/compare?ids=${ids['cmp-a']},${ids['cmp-c']}`)
    await expect.poll(() => medians(page)).toEqual({ 'cmp-a': [1], 'cmp-c': [20] })
    await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '6 h' }).click()
    await page.waitForURL(/[?&]range=6h/)
    await expect.poll(() => page.getByTestId('compare-meta').textContent()).toContain('raw samples')
    await expect.poll(() => medians(page)).toEqual({ 'cmp-a': [1], 'cmp-c': [20] })
    await page.getByLabel('Log scale').check()
    await page.waitForURL(/[?&]scale=log/)
    await expect.poll(async () => (await plot(page, 'compare'))?.yDistr).toBe(3)
    // Drag across the plot: a zoom, then Back undoes it.
    const box = (await page.locator('[data-testid=compare-chart] .u-over').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.7, box.y + 40)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.9, box.y + 40, { steps: 5 })
    await page.mouse.up()
    await page.waitForURL(/[?&]from=.*&to=/)
    expect(await page.getByRole('button', { name: 'Reset zoom' }).count()).toBe(1)
    await expect.poll(() => medians(page)).toEqual({ 'cmp-a': [1], 'cmp-c': [20] })
    await page.goBack()
    await page.waitForURL((u) => u.searchParams.get('range') === '6h' && !u.searchParams.has('from'))
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('refuses a ninth target in the fleet and says so for a longer list', async () => {
    await page.goto(`${h.url}/`)
    await expect.poll(() => page.locator('tr[data-target-id]').count()).toBe(10)
    expect(selParam()).toBe(null)
    // The header box: the shown rows, up to eight (sorted by state then name: the three, then fillers 1–5).
    const header = page.getByLabel('Select the shown rows (up to 8)')
    await header.click()
    await expect.poll(() => selParam()?.split(',').length).toBe(8)
    // Eight of the ten shown: neither all nor none.
    expect(await page.evaluate(`document.querySelector('input[aria-label^="Select the shown rows"]').indeterminate`)).toBe(true)
    expect(await compareButton().textContent()).toBe('Compare (8)')
    for (const n of ['filler-6', 'filler-7']) {
      expect(await checkbox(n).isDisabled()).toBe(true)
      expect(await checkbox(n).getAttribute('title')).toBe('Compare takes up to 8 targets')
    }
    await checkbox('filler-6').click({ force: true })
    expect(selParam()?.split(',').length).toBe(8)
    expect(await checkbox('filler-6').isChecked()).toBe(false)
    // Unticking one frees a slot.
    await checkbox('filler-1').uncheck()
    await expect.poll(() => checkbox('filler-6').isDisabled()).toBe(false)
    await page.getByRole('button', { name: 'Clear selection' }).click()
    await expect.poll(selParam).toBe(null)
    expect(await checkbox('cmp-a').isChecked()).toBe(false)

    // A link with nine: Compare is disabled and says why.
    const nine = [...Object.keys(RTT_MS), ...FILLERS.slice(0, 6)].map((n) => ids[n]).join(',')
    await page.goto(`${h.url}/?sel=${nine}`)
    await expect.poll(() => page.getByTestId('selection-note').textContent()).toContain('Compare takes up to 8 targets: 9 are selected.')
    expect(await compareButton().isDisabled()).toBe(true)
    // The compare page given nine draws the first eight and names the ninth.
    await page.goto(`${h.url}/compare?ids=${nine}`)
    await expect.poll(() => page.getByTestId('compare-problems').textContent()).toBe(`Compare takes up to 8 targets: ${ids['filler-6']} left out.`)
    await expect.poll(() => page.locator('.compare-legend tbody tr').count()).toBe(8)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('names a deleted, a repeated and a malformed id, and draws the others', async () => {
    const gone = ids['filler-7']!
    await h.api('DELETE', `/targets/${gone}`)
    h.expectHttpError(404, `/targets/${gone}/insights`)
    await page.goto(`${h.url}/compare?ids=${ids['cmp-a']},${gone},abc,${ids['cmp-b']},${ids['cmp-a']}`)
    await expect.poll(() => page.getByTestId('compare-failures').textContent()).toBe(`Target ${gone} was not found: it may have been deleted.`)
    const problems = await page.getByTestId('compare-problems').locator('li').allTextContents()
    expect(problems).toEqual(['Not target ids, left out: abc.', `Listed more than once, shown once: ${ids['cmp-a']}.`])
    await expect.poll(() => medians(page)).toEqual({ 'cmp-a': [1], 'cmp-b': [5] })
    expect(await figure('cmp-b', 'p50')).toBe('5.00 ms')

    // Nothing to compare: a message, not a crash.
    await page.goto(`${h.url}/compare?ids=x,,-3`)
    await page.getByText('No targets to compare.').waitFor()
    expect(await page.getByTestId('compare-problems').textContent()).toBe('Not target ids, left out: x, -3.')
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })
})
