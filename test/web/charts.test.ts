// The target chart and the dashboard's URL state in Chromium (issue 14): the built `pingscope serve` on an
// embedded data directory holding the last 2.5 hours of two 60 s targets (documentation addresses,
// paused: never probed), written as the probe engine writes them. Any console error fails the test.
// Screenshots go to test-results/.
//
// One engine only: what is asserted here is the dashboard's drawing and URL handling. The server-side
// part of the fix (buckets never finer than the target's interval) is one pure function called by the
// insights service, asserted on both engines in test/api/insights.test.ts; dashboard.test.ts drives
// the same pages against both.
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionInitScript } from '../../scripts/bench/fleet.js'
import { type Sample, insertSamples } from '../../src/probe/writer.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { DashboardHarness, RESULTS } from '../helpers/browser.js'
import { minuteRounds } from '../helpers/samples.js'

/** The median RTT of the steady target: a loopback-like 36 µs. */
const MEDIAN_US = 36
const SPIKE_US = 260_000
/** The median line's colour without loss (LOSS_BANDS[0] in web/src/features/targets/chart/loss-colors.ts). */
const NO_LOSS_RGB = [0x16, 0xa3, 0x4a] as const

const rounds = (targetId: number, reply: (round: number, echo: number) => number | null): Sample[] => minuteRounds(targetId, 150, reply)

/**
 * Read in the page (this file is compiled without the DOM types, so as a script): the uPlot instance
 * the chart leaves on its element (`uplot`), its data, scale and geometry, its canvas pixels and the
 * tick labels it drew (uPlot keeps them in the axis' _splits and _values).
 */
const CHART_PROBE = `
  window.__chart = {
    u: (which) => document.querySelector('[data-testid=' + which + '-chart]')?.uplot,
    plot(which) {
      const u = this.u(which)
      if (!u) return null
      const y = u.scales[u.series[1].scale]
      return { labels: u.series.map((s) => String(s.label ?? '')), data: u.data.map((xs) => Array.from(xs)),
        yMin: y.min, yMax: y.max, yDistr: y.distr, plotHeight: u.over.clientHeight }
    },
    heightOf(v) {
      const u = this.u('latency')
      return 1 - u.valToPos(v, 'y') / u.over.clientHeight
    },
    medianPixels(rgb) {
      const u = this.u('latency')
      const px = u.ctx.getImageData(0, 0, u.ctx.canvas.width, u.ctx.canvas.height).data
      let n = 0
      for (let i = 0; i < px.length; i += 4)
        if (Math.abs(px[i] - rgb[0]) + Math.abs(px[i + 1] - rgb[1]) + Math.abs(px[i + 2] - rgb[2]) < 60 && px[i + 3] > 200) n++
      return n
    },
    xLabels(which) {
      const u = this.u(which)
      const axis = u.axes[0]
      u.ctx.save()
      u.ctx.font = axis.font[0]
      const labels = axis._splits.map((s, i) => {
        const text = axis._values[i] ?? ''
        const w = Math.max(...text.split('\\n').map((l) => u.ctx.measureText(l).width))
        const x = u.valToPos(s, 'x', true)
        return { text, left: x - w / 2, right: x + w / 2 }
      })
      u.ctx.restore()
      return { labels, axisLabel: axis.label ?? '' }
    },
  }
`

interface XLabels {
  labels: { text: string; left: number; right: number }[]
  axisLabel: string
}

interface PlotInfo {
  labels: string[]
  data: (number | null)[][]
  yMin: number
  yMax: number
  yDistr: number
  plotHeight: number
}

describe('target chart and URL state in Chromium (embedded engine)', () => {
  let store: TestStore
  let h: DashboardHarness
  let url: string
  let page: Page
  const ids: Record<string, number> = {}

  const plot = (which: 'latency' | 'loss') => page.evaluate<PlotInfo | null>(`__chart.plot('${which}')`)
  /** Position of a value on the latency plot, as a fraction of the plotting area's height from the bottom. */
  const heightOf = (v: number) => page.evaluate<number>(`__chart.heightOf(${v})`)
  /** Pixels of the latency canvas close to the no-loss median colour. */
  const medianPixels = () => page.evaluate<number>(`__chart.medianPixels(${JSON.stringify(NO_LOSS_RGB)})`)
  /** Each x-axis tick label of a plot with its box in canvas pixels. */
  const xLabels = (which: 'latency' | 'loss') => page.evaluate<XLabels>(`__chart.xLabels('${which}')`)
  const meta = () => page.getByTestId('insights-meta')
  const row = (name: string) => page.locator('tr[data-target-id]', { has: page.getByRole('link', { name, exact: true }) })
  const openTarget = async (name: string, query = '') => {
    await page.goto(`${url}/target/${ids[name]}${query}`)
    await page.locator('[data-testid=latency-chart] canvas').first().waitFor()
  }

  beforeAll(async () => {
    store = await createTestStore('embedded')
    const db = await openTestDatabase({ engine: 'embedded', store })
    const targets = await db.sql<{ id: number; name: string }[]>`
      insert into targets (address, name, tags, interval_s, packets, enabled)
      values ('192.0.2.60', 'steady-60', '{chart}', 60, 5, false), ('192.0.2.61', 'sparse-60', '{chart}', 60, 5, false),
             ('192.0.2.62', 'other-60', '{misc}', 60, 5, false)
      returning id, name`
    for (const t of targets) ids[t.name] = t.id
    // Steady: 30–41 µs, one 260 ms echo 30 minutes ago. Sparse: every other round entirely lost.
    await insertSamples(db.sql, rounds(ids['steady-60']!, (k, e) => (k === 30 && e === 2 ? SPIKE_US : MEDIAN_US - 6 + ((k * 7 + e * 3) % 12))))
    await insertSamples(db.sql, rounds(ids['sparse-60']!, (k, e) => (k % 2 === 0 ? MEDIAN_US + e : null)))
    await insertSamples(db.sql, rounds(ids['other-60']!, () => 500))
    await db.destroy({ keep: true })

    h = await DashboardHarness.start(store)
    url = h.url
    const session = await h.session()
    // A 12-hour locale in a zone away from UTC: a time shown in either would be caught.
    page = await h.page({
      viewport: { width: 1400, height: 1000 },
      locale: 'en-US',
      timezoneId: 'America/New_York',
      initScripts: [sessionInitScript(session.access_token, session.expires_in), CHART_PROBE],
    })
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
  })

  it('draws a 60 s target at 1 h in 1-minute buckets, and isolated buckets as points', async () => {
    await openTarget('steady-60')
    await expect.poll(() => meta().textContent()).toContain('raw samples, 1 min buckets')
    const lat = (await plot('latency'))!
    const p50 = lat.data[lat.labels.indexOf('p50')]!
    // 60 one-minute buckets (61 when the hour starts mid-minute), each holding one round.
    expect(p50.length).toBeGreaterThanOrEqual(60)
    expect(p50.filter((v) => v !== null).length).toBeGreaterThanOrEqual(59)
    expect(await medianPixels()).toBeGreaterThan(500)

    // Every other round lost: each answered bucket stands alone between two empty ones.
    await openTarget('sparse-60')
    await expect.poll(() => meta().textContent()).toContain('1 min buckets')
    const sparse = (await plot('latency'))!
    const values = sparse.data[sparse.labels.indexOf('p50')]!
    const answered = values.flatMap((v, i) => (v === null ? [] : [i]))
    expect(answered.length).toBeGreaterThanOrEqual(29)
    expect(answered.every((i) => values[i - 1] == null && values[i + 1] == null)).toBe(true)
    // No line can join them: what is drawn in the median colour are the points.
    expect(await medianPixels()).toBeGreaterThan(answered.length * 10)
    await page.screenshot({ path: path.join(RESULTS, 'web-chart-sparse.png'), fullPage: true })
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('scales the latency axis to the p99, marks the clipped spike and offers a log scale', async () => {
    await openTarget('steady-60')
    await expect.poll(() => meta().textContent()).toContain('1 min buckets')
    const lat = (await plot('latency'))!
    const max = lat.data[lat.labels.indexOf('max')]!
    expect(Math.max(...max.filter((v): v is number => v !== null))).toBe(SPIKE_US / 1000)
    // The spike is cut off, and says so.
    expect(lat.yMax).toBeLessThan(1)
    await expect.poll(() => page.getByTestId('clip-note').textContent()).toContain('up to 260 ms')
    // The median stays well clear of the bottom.
    const p50 = lat.data[lat.labels.indexOf('p50')]!.filter((v): v is number => v !== null)
    for (const v of p50) expect(await heightOf(v)).toBeGreaterThan(0.2)
    await page.screenshot({ path: path.join(RESULTS, 'web-chart-p99.png'), fullPage: true })

    await page.getByLabel('Log scale').check()
    await page.waitForURL(/[?&]scale=log/)
    await expect.poll(async () => (await plot('latency'))?.yDistr).toBe(3)
    const logged = (await plot('latency'))!
    expect(logged.yMax).toBeGreaterThanOrEqual(SPIKE_US / 1000)
    expect(await page.getByTestId('clip-note').count()).toBe(0)
    await page.getByLabel('Log scale').uncheck()
    await expect.poll(async () => (await plot('latency'))?.yDistr).toBe(1)
    expect(page.url()).not.toContain('scale=')
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('keeps range, zoom, scale, fleet filters and sort in the URL across reload, Back and Forward', async () => {
    await page.goto(`${url}/`)
    await expect.poll(() => page.locator('tr[data-target-id]').count()).toBe(3)
    await page.getByLabel('Search').fill('60')
    await page.getByLabel('Tag').selectOption('chart')
    await page.getByRole('group', { name: 'Filter by status' }).getByRole('button', { name: /^paused/ }).click()
    await page.getByRole('button', { name: 'Name', exact: true }).click()
    await page.getByRole('button', { name: 'Name', exact: true }).click()
    const fleetUrl = page.url()
    expect(new URL(fleetUrl).searchParams.toString()).toBe('q=60&tag=chart&status=paused&sort=-name')
    const fleetView = async () => ({
      q: await page.getByLabel('Search').inputValue(),
      tag: await page.getByLabel('Tag').inputValue(),
      paused: await page.getByRole('group', { name: 'Filter by status' }).getByRole('button', { name: /^paused/ }).getAttribute('aria-pressed'),
      sorted: (await page.locator('th[aria-sort]').textContent()) + ' ' + (await page.locator('th[aria-sort]').getAttribute('aria-sort')),
      rows: await page.locator('tr[data-target-id] td.col-name').allTextContents(),
    })
    await expect.poll(async () => (await fleetView()).rows).toEqual(['steady-60', 'sparse-60'])
    const fleet = await fleetView()
    expect(fleet).toEqual({ q: '60', tag: 'chart', paused: 'true', sorted: 'Name▼ descending', rows: ['steady-60', 'sparse-60'] })
    await page.reload()
    await expect.poll(fleetView).toEqual(fleet)

    // Into a target: a range, then a zoom by dragging, then the log scale.
    await row('steady-60').getByRole('link').click()
    await page.waitForURL(`${url}/target/${ids['steady-60']}`)
    await page.getByRole('button', { name: '7 d', exact: true }).click()
    await page.waitForURL(/\?range=7d$/)
    await expect.poll(() => meta().textContent()).toContain('1 h buckets')
    const over = page.locator('[data-testid=latency-chart] .u-over')
    const box = (await over.boundingBox())!
    // Across the last hours of data: the zoomed view has something to draw on the log scale.
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.97, box.y + box.height / 2, { steps: 5 })
    await page.mouse.move(box.x + box.width * 0.995, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.getByRole('button', { name: 'Reset zoom' }).waitFor()
    await page.getByLabel('Log scale').check()
    await page.waitForURL(/scale=log/)
    const zoomedUrl = new URL(page.url())
    expect([...zoomedUrl.searchParams.keys()].sort()).toEqual(['from', 'scale', 'to'])
    const targetView = async () => {
      const p = await plot('latency')
      return {
        zoomed: await page.locator('.zoomed').textContent(),
        pressed: await page.locator('.range-bar button[aria-pressed=true]').count(),
        log: await page.getByLabel('Log scale').isChecked(),
        distr: p?.yDistr,
        meta: (await meta().textContent())?.replace(' · updating…', ''),
      }
    }
    await expect.poll(async () => (await targetView()).distr).toBe(3)
    // The zoomed window's own answer, not the 7-day one kept on screen while it loads.
    await expect.poll(async () => (await meta().textContent()) ?? '').toMatch(/^1m rollups, \d+ min buckets$/)
    const zoomed = await targetView()
    expect(zoomed.zoomed).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} EST – \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} EST$/)
    expect(zoomed.pressed).toBe(0)
    await page.screenshot({ path: path.join(RESULTS, 'web-chart-zoomed-log.png'), fullPage: true })

    await page.reload()
    await expect.poll(targetView).toEqual(zoomed)
    expect(page.url()).toBe(zoomedUrl.toString())
    // Back undoes the zoom (the scale was switched in place), Forward redoes it.
    await page.goBack()
    await page.waitForURL(/\?range=7d$/)
    await expect.poll(() => page.getByRole('button', { name: '7 d', exact: true }).getAttribute('aria-pressed')).toBe('true')
    await expect.poll(() => meta().textContent()).toContain('1 h buckets')
    await page.goForward()
    await expect.poll(targetView).toEqual(zoomed)
    // Back to the fleet as it was left.
    await page.goBack()
    await page.goBack()
    await page.waitForURL(`${url}/target/${ids['steady-60']}`)
    await expect.poll(() => page.getByRole('button', { name: '1 h', exact: true }).getAttribute('aria-pressed')).toBe('true')
    await page.goBack()
    await page.waitForURL(fleetUrl)
    await expect.poll(fleetView).toEqual(fleet)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('shows times in 24 hours with the time zone, in UTC when toggled, and axis labels that do not collide', async () => {
    const clock = /^\d{2}:\d{2}(:\d{2})?(\n(\d{4}-)?\d{2}-\d{2})?$|^\d{2}-\d{2}(\n\d{4})?$/
    const checkAxes = async (zone: string) => {
      for (const which of ['latency', 'loss'] as const) {
        const { labels, axisLabel } = await xLabels(which)
        expect(labels.length, which).toBeGreaterThanOrEqual(3)
        for (const l of labels) expect(l.text, which).toMatch(clock)
        // At least a label's worth of room between neighbours: none overlaps.
        for (let i = 1; i < labels.length; i++) expect(labels[i]!.left, `${which}: ${labels[i - 1]!.text} | ${labels[i]!.text}`).toBeGreaterThan(labels[i - 1]!.right)
        if (which === 'loss') expect(axisLabel).toBe(`Time (${zone})`)
      }
    }
    /** The legend's time under the cursor, hovering the middle of the latency plot. */
    const legendTime = async () => {
      const box = (await page.locator('[data-testid=latency-chart] .u-over').boundingBox())!
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
      return (await page.locator('[data-testid=latency-chart] .u-legend .u-series').first().locator('.u-value').textContent()) ?? ''
    }

    await openTarget('steady-60')
    await expect.poll(() => meta().textContent()).toContain('1 min buckets')
    const local = await legendTime()
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} EST$/)
    await checkAxes('EST')
    for (const range of ['15 m', '6 h', '24 h', '7 d', '30 d']) {
      await page.getByRole('button', { name: range, exact: true }).click()
      await expect.poll(() => page.getByRole('button', { name: range, exact: true }).getAttribute('aria-pressed')).toBe('true')
      await expect.poll(() => meta().textContent()).not.toContain('updating')
      await checkAxes('EST')
    }
    // A narrow window squeezes the ticks, never the labels together.
    await page.setViewportSize({ width: 640, height: 1000 })
    await expect.poll(async () => (await page.locator('[data-testid=latency-chart] .u-over').boundingBox())!.width).toBeLessThan(600)
    await checkAxes('EST')
    await page.setViewportSize({ width: 1400, height: 1000 })

    await page.getByRole('button', { name: '1 h', exact: true }).click()
    await expect.poll(() => meta().textContent()).toContain('1 min buckets')
    await page.getByRole('button', { name: 'UTC', exact: true }).click()
    await expect.poll(() => page.getByRole('button', { name: 'UTC', exact: true }).getAttribute('aria-pressed')).toBe('true')
    await page.locator('[data-testid=latency-chart] canvas').first().waitFor()
    const utc = await legendTime()
    expect(utc).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/)
    // The same instant, 5 hours later on the clock (EST is UTC−5).
    const hour = (s: string) => Number(s.slice(11, 13))
    expect(hour(utc)).toBe((hour(local) + 5) % 24)
    await checkAxes('UTC')
    await page.screenshot({ path: path.join(RESULTS, 'web-chart-utc.png'), fullPage: true })
    // Kept for the next visit; switched back for what follows.
    await page.reload()
    await page.locator('[data-testid=latency-chart] canvas').first().waitFor()
    expect(await page.getByRole('button', { name: 'UTC', exact: true }).getAttribute('aria-pressed')).toBe('true')
    expect((await xLabels('loss')).axisLabel).toBe('Time (UTC)')
    await page.getByRole('button', { name: 'UTC', exact: true }).click()
    await expect.poll(async () => (await xLabels('loss')).axisLabel).toBe('Time (EST)')
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('aligns the latency and loss plots: same plotting area, one cursor position', async () => {
    await openTarget('steady-60', '?range=6h')
    await expect.poll(() => meta().textContent()).toContain('raw samples')
    const lat = (await page.locator('[data-testid=latency-chart] .u-over').boundingBox())!
    const loss = (await page.locator('[data-testid=loss-chart] .u-over').boundingBox())!
    expect(loss.x).toBeCloseTo(lat.x, 1)
    expect(loss.width).toBeCloseTo(lat.width, 1)
    // The shared cursor: hovering one plot puts the other's cursor line at the same x.
    for (const f of [0.1, 0.5, 0.9]) {
      await page.mouse.move(lat.x + lat.width * f, lat.y + lat.height / 2)
      const a = (await page.locator('[data-testid=latency-chart] .u-cursor-x').boundingBox())!
      await expect.poll(async () => (await page.locator('[data-testid=loss-chart] .u-cursor-x').boundingBox())!.x).toBeCloseTo(a.x, 0)
    }
    await page.screenshot({ path: path.join(RESULTS, 'web-chart-cursor.png'), fullPage: true })
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })
})
