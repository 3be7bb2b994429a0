// Issue 14 end to end: the built `pingscope serve` (schedules polled every second) with the network
// lab's router chain end as a target, driven through Debian's Chromium: an admin turns the traceroute
// schedule on in the Path history panel, the first scheduled run appears in the hop × time view, a
// second route (addChainShortcut) and a run made due at once give a path change, two distinct paths and
// a diff of the two runs hop by hop; a viewer reads all of it without a schedule control. Only the lab's
// addresses are traced. Any console error fails the test. Screenshot in test-results/.
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/open.js'
import type { PathHistoryOut, ScheduleOut } from '../../src/traceroute/traceroute.schema.js'
import { type TestStore, createTestStore, openTestDatabase, testConfig, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Lab, addChainShortcut, startLab } from '../helpers/lab.js'
import { ADMIN_PASSWORD, DashboardHarness, RESULTS } from '../helpers/browser.js'

const VIEWER = { username: 'noc', password: 'noc-password-123' }

describe.each(ENGINES)('path history panel in Chromium (%s engine)', (engine) => {
  let store: TestStore
  let lab: Lab
  let h: DashboardHarness
  let url: string
  let admin: Page
  let token: string
  let targetId = 0
  let bigId = 0
  let shortcut: Awaited<ReturnType<typeof addChainShortcut>> | null = null

  const api = async <T>(method: string, p: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${p}`, { method, headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: (await res.json()) as T }
  }
  const schedulePath = () => `/targets/${targetId}/traceroute-schedule`

  async function signedIn(username: string, password: string): Promise<Page> {
    const page = await h.signedIn(username, password, { viewport: { width: 1400, height: 1000 } })
    await page.goto(`${url}/target/${targetId}`)
    await page.getByRole('heading', { name: 'chain-end' }).waitFor()
    return page
  }

  /** The element alone, from a full-page capture (the sticky top bar stays at the top of the page). */
  async function screenshotOf(page: Page, el: ReturnType<Page['getByTestId']>, file: string) {
    const box = (await el.boundingBox())!
    const scrollY = (await page.evaluate('window.scrollY')) as number
    await page.screenshot({ path: path.join(RESULTS, file), fullPage: true, clip: { ...box, y: box.y + scrollY } })
  }

  beforeAll(async () => {
    lab = await startLab(['chain'])
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    // Active (schedules skip paused targets), probed every 5 s: only the lab's end host.
    const [t] = await db.sql<{ id: number }[]>`insert into targets (address, name, tags, interval_s, packets) values (${lab.chain.end}, 'chain-end', '{lab}', 5, 1) returning id`
    targetId = t!.id
    // A paused target (never probed or traced) with 300 stored scheduled runs of 30 hops, one a minute,
    // documentation addresses, a new path every 100 runs and some loss: the view at full size.
    const [big] = await db.sql<{ id: number }[]>`insert into targets (address, name, enabled) values ('192.0.2.77', 'synthetic', false) returning id`
    bigId = big!.id
    await db.sql`
      insert into traceroutes (target_id, started_at, finished_at, duration_ms, max_hops, hops, hop_count, reached, path_hash, actor)
      select ${bigId}, now() - make_interval(mins => 301 - g), now() - make_interval(mins => 301 - g) + interval '2 s', 2000, 30,
             (select jsonb_agg(jsonb_build_object('hop', h, 'host', null, 'ip', '192.0.2.' || (h + 30 * (g / 100)), 'is_timeout', false, 'raw', '',
                                                  'rtt_ms', h * 0.5, 'sent', 3,
                                                  'rtts_ms', case when (g * h) % 13 = 0 then '[]'::jsonb when (g + h) % 7 = 0 then jsonb_build_array(h * 0.5)
                                                                  else jsonb_build_array(h * 0.5, h * 0.5 + 0.1, h * 0.5 + 0.2) end) order by h)
                from generate_series(1, 30) h),
             30, true, 'synthetic-' || (g / 100), 'schedule'
      from generate_series(1, 300) g`
    await db.destroy({ keep: true })

    h = await DashboardHarness.start(store, { TRACEROUTE_SCHEDULE_POLL_S: '1' })
    ;({ url, token } = h)
    await h.createUser(VIEWER.username, VIEWER.password, 'viewer')
    admin = await signedIn('admin', ADMIN_PASSWORD)
  }, 150_000)

  afterAll(async () => {
    await shortcut?.remove()
    await h?.stop()
    await store?.remove()
    await lab?.stop()
  })

  it('an admin turns the schedule on and its first run appears in the hop × time view', async () => {
    const panel = admin.getByTestId('path-history')
    await panel.getByText('No scheduled traceroutes.').waitFor()
    await panel.getByText(/No traceroute runs in this window/).waitFor()
    expect(await api('GET', schedulePath())).toEqual({ status: 200, body: null })

    await panel.getByLabel('Schedule', { exact: true }).selectOption({ label: 'every 1 min' })
    expect(await panel.getByLabel('Probes per hop').inputValue()).toBe('3')
    const t0 = Date.now()
    await panel.getByRole('button', { name: 'Save schedule' }).click()
    await panel.getByRole('status').filter({ hasText: 'Schedule saved' }).waitFor()
    const s = await api<ScheduleOut>('GET', schedulePath())
    expect(s.body).toMatchObject({ target_id: targetId, interval_s: 60, queries: 3, created_by: 'admin' })

    const columns = panel.locator('[data-testid=hop-grid] .hop-col')
    await expect.poll(() => columns.count(), { timeout: 15_000, interval: 250 }).toBe(1)
    console.log(`[${engine}] first scheduled run shown ${Date.now() - t0} ms after Save`)
    // One cell per hop of the chain, in order, each with its address, loss and mean RTT in the title.
    const cells = columns.first().locator('.hop-cell[data-loss]')
    const titles = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''))
    expect(titles.map((x) => x.split('\n')[0])).toEqual(lab.chain.hops.map((ip, i) => `Hop ${i + 1}: ${ip}`))
    for (const x of titles) expect(x).toMatch(/^loss 0 % of 3, mean RTT \d+(\.\d+)? (µs|ms)$/m)
    // No loss: green (red and blue low, green high).
    const colors = await cells.evaluateAll((els) => els.map((e) => e.style.backgroundColor))
    for (const c of colors) {
      const [r, g, b] = (c.match(/\d+/g) ?? []).map(Number)
      expect({ c, green: g! > 150 && r! < 60 && b! < 60 }).toEqual({ c, green: true })
    }
    expect(await panel.locator('button.path-change').count()).toBe(0)
    await expect.poll(() => panel.getByTestId('path-summary').textContent(), { timeout: 10_000 }).toBe('1 run, 1 path, 0 changes')
    const facts = panel.getByTestId('schedule-facts')
    await expect.poll(() => facts.textContent(), { timeout: 10_000 }).toMatch(/every 1 min, 3 probes per hop.*Last run\d{2}:\d{2}:\d{2} UTC.*Next run\d{2}:\d{2}:\d{2} UTC/)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('shows a new route as a path change and a second path, and the two runs side by side', async () => {
    shortcut = await addChainShortcut(lab)
    // Make the next run due now (the schedule's interval is a minute), on the engine serve is using.
    const db = await openDatabase(testConfig(store.env), { log: testLog, max: 1 })
    try {
      await db.sql`update traceroute_schedules set next_run_at = now() where target_id = ${targetId}`
    } finally {
      await db.close()
    }
    const panel = admin.getByTestId('path-history')
    const columns = panel.locator('[data-testid=hop-grid] .hop-col')
    await expect.poll(() => columns.count(), { timeout: 20_000, interval: 250 }).toBe(2)
    await expect.poll(() => panel.getByTestId('path-summary').textContent(), { timeout: 10_000 }).toBe('2 runs, 2 paths, 1 change')
    // The marker sits on the second run only.
    expect(await columns.nth(0).locator('button.path-change').count()).toBe(0)
    expect(await columns.nth(1).locator('button.path-change').count()).toBe(1)
    const second = [shortcut.via, lab.chain.hops[2]!, lab.chain.end]
    const secondTitles = await columns.nth(1).locator('.hop-cell[data-loss]').evaluateAll((els) => els.map((e) => (e.getAttribute('title') ?? '').split('\n')[0]))
    expect(secondTitles).toEqual(second.map((ip, i) => `Hop ${i + 1}: ${ip}`))
    expect(await columns.nth(1).locator('.hop-none').count()).toBe(1) // hop 4: not on this path

    // The distinct paths, in the order first seen, with their run counts.
    const rows = panel.getByRole('table', { name: 'Distinct paths' }).locator('tbody tr')
    expect(await rows.count()).toBe(2)
    const pathCells = async (i: number) => (await rows.nth(i).locator('td').allTextContents()).slice(0, 3)
    expect(await pathCells(0)).toEqual(['A', lab.chain.hops.join(' → '), '1'])
    expect(await pathCells(1)).toEqual(['B', second.join(' → '), '1'])
    const history = (await api<PathHistoryOut>('GET', `/targets/${targetId}/path-history`)).body
    const [a, b] = history.runs.map((r) => r.id)

    // Two columns clicked: A then B, and the diff hop by hop with every hop changed.
    await columns.nth(0).click({ position: { x: 2, y: 60 } })
    await columns.nth(1).click({ position: { x: 2, y: 60 } })
    expect(await panel.getByLabel('Run A', { exact: true }).inputValue()).toBe(String(a))
    expect(await panel.getByLabel('Run B', { exact: true }).inputValue()).toBe(String(b))
    const diff = panel.getByRole('table', { name: 'Path diff' })
    await diff.waitFor()
    expect(await panel.getByTestId('path-diff-summary').textContent()).toBe('Different paths: 4 of 4 hops changed')
    const diffRows = await diff.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => {
        const td = [...tr.querySelectorAll('td')].map((c) => c.textContent)
        return [td[0], td[1], td[4], tr.classList.contains('hop-changed')]
      }),
    )
    expect(diffRows).toEqual([
      ['1', lab.chain.hops[0], shortcut.via, true],
      ['2', lab.chain.hops[1], lab.chain.hops[2], true],
      ['3', lab.chain.hops[2], lab.chain.end, true],
      ['4', lab.chain.end, '', true],
    ])
    await screenshotOf(admin, panel, 'web-path-history.png')

    // The same run twice is the same path; the marker compares its run with the one before.
    await panel.getByLabel('Run B', { exact: true }).selectOption(String(a))
    await expect.poll(() => panel.getByTestId('path-diff-summary').textContent(), { timeout: 10_000 }).toBe('Same path')
    expect(await diff.locator('tbody tr.hop-changed').count()).toBe(0)
    await columns.nth(1).locator('button.path-change').click()
    await expect.poll(() => panel.getByTestId('path-diff-summary').textContent(), { timeout: 10_000 }).toBe('Different paths: 4 of 4 hops changed')
    expect([await panel.getByLabel('Run A', { exact: true }).inputValue(), await panel.getByLabel('Run B', { exact: true }).inputValue()]).toEqual([String(a), String(b)])
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('a viewer sees the schedule and the history read-only; the admin turns the schedule off', async () => {
    const viewer = await signedIn(VIEWER.username, VIEWER.password)
    const panel = viewer.getByTestId('path-history')
    await panel.getByTestId('schedule-facts').getByText('every 1 min, 3 probes per hop', { exact: false }).waitFor()
    await expect.poll(() => panel.locator('[data-testid=hop-grid] .hop-col').count(), { timeout: 10_000 }).toBe(2)
    expect(await panel.getByRole('button', { name: 'Save schedule' }).count()).toBe(0)
    expect(await panel.getByLabel('Schedule', { exact: true }).count()).toBe(0)
    expect(await panel.getByLabel('Probes per hop').count()).toBe(0)
    expect(await panel.getByRole('form', { name: 'Traceroute schedule' }).count()).toBe(0)

    // Off: the schedule goes (DELETE), the runs stay.
    const adminPanel = admin.getByTestId('path-history')
    await adminPanel.getByLabel('Schedule', { exact: true }).selectOption({ label: 'Off' })
    await adminPanel.getByRole('button', { name: 'Save schedule' }).click()
    await adminPanel.getByRole('status').filter({ hasText: 'Schedule removed' }).waitFor()
    await adminPanel.getByText('No scheduled traceroutes.').waitFor()
    expect(await api('GET', schedulePath())).toEqual({ status: 200, body: null })
    expect(await adminPanel.locator('[data-testid=hop-grid] .hop-col').count()).toBe(2)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })
  it('stays readable with 300 runs × 30 hops: every run a column of at least 5 px, every hop a row', async () => {
    const t0 = Date.now()
    await admin.goto(`${url}/target/${bigId}?range=6h`)
    const panel = admin.getByTestId('path-history')
    const columns = panel.locator('[data-testid=hop-grid] .hop-col')
    await expect.poll(() => columns.count(), { timeout: 20_000 }).toBe(300)
    console.log(`[${engine}] 300 × 30 view shown ${Date.now() - t0} ms after navigation`)
    expect(await panel.getByTestId('path-summary').textContent()).toBe('300 runs, 4 paths, 3 changes')
    expect(await panel.locator('button.path-change').count()).toBe(3)
    expect(await columns.first().locator('.hop-cell[data-loss]').count()).toBe(30)
    const size = await columns.evaluateAll((cols) => {
      const cell = cols[0]!.querySelector('.hop-cell[data-loss]')!.getBoundingClientRect()
      const widths = cols.map((c) => c.getBoundingClientRect().width)
      return { minWidth: Math.min(...widths), cellHeight: cell.height }
    })
    expect(size.minWidth).toBeGreaterThanOrEqual(5)
    expect(size.cellHeight).toBeGreaterThanOrEqual(12)
    // Loss shows: 0 %, 67 % and 100 % cells are there, each in its own colour.
    const losses = new Set(await panel.locator('.hop-cell[data-loss]').evaluateAll((els) => els.map((e) => e.getAttribute('data-loss'))))
    expect([...losses].sort()).toEqual(['0', '100', '66.67'])
    // The view scrolls sideways instead of squeezing runs below 5 px; the hop numbers stay in view.
    const scroll = await panel.locator('.hop-grid-body').evaluate((b) => ({ scrollable: b.scrollWidth > b.clientWidth }))
    expect(scroll.scrollable).toBe(true)
    await screenshotOf(admin, panel.getByTestId('hop-grid'), 'web-path-history-300.png')
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })
})
