// Issue 14 end to end: public status pages in Debian's Chromium against the built `pingscope serve`
// (probing and alerting off: every target and figure here is written to the database first, with
// documentation addresses that nothing probes). An admin publishes the tag `core` on /admin (a bad tag
// first: the API's 422 shown under the field); an anonymous browser opens /status/core and sees the
// tag's targets only, their API states with since when, 90 daily uptime bars each (colour and title
// from the echoes written) and the incidents; a reload serves the page again; an unknown tag says not
// found; once the admin unpublishes it, the API answers 404 and a new visitor sees not found. Any
// other console error fails the test.
// Screenshot: test-results/status-page.png.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { intArrayLiteral, textArrayLiteral } from '../../src/db/arrays.js'
import type { PublicStatusOut } from '../../src/status-page/status-page.schema.js'
import { ADMIN_PASSWORD, DashboardHarness } from '../helpers/browser.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'

const DAY = 86_400_000
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10)

describe.each(ENGINES)('public status page in Chromium (%s engine)', (engine) => {
  let store: TestStore
  let h: DashboardHarness
  let admin: Page
  let anon: Page
  const ids: Record<string, number> = {}
  const today = Math.floor(Date.now() / DAY) * DAY
  // The echoes written, as columns.
  const times: string[] = []
  const targetIds: number[] = []
  const rtts: (number | null)[] = []
  /** The UTC days of the 90-day window on which `name` has echoes. */
  const daysWithData = (name: string) => new Set(times.filter((t, i) => targetIds[i] === ids[name] && Date.parse(t) >= today - 89 * DAY).map((t) => t.slice(0, 10))).size

  beforeAll(async () => {
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    const sql = db.sql
    // interval_s 3600: a reply within the last 3 hours counts as answering, with no probe running.
    const rows = await sql<{ id: number; name: string }[]>`
      insert into targets (address, name, tags, interval_s, enabled, notes, created_at)
      values ('192.0.2.10', 'edge-a', '{core}', 3600, true, 'private: console on port 7', now() - interval '120 days'),
             ('192.0.2.11', 'edge-b', '{core}', 3600, true, null, now() - interval '120 days'),
             ('2001:db8::12', 'edge-c', '{core}', 3600, true, null, now() - interval '120 days'),
             ('192.0.2.13', 'spare', '{core}', 3600, false, null, now() - interval '120 days'),
             ('192.0.2.14', 'elsewhere', '{edge}', 3600, true, null, now() - interval '120 days')
      returning id, name`
    for (const r of rows) ids[r.name] = r.id
    // Daily echoes, one a minute from 06:00 UTC, over the last 60 days (today included):
    //   edge-a 240 a day, 2 lost (99.17 %), yesterday 10 lost (95.83 %) and an outage open for 2 hours;
    //   edge-b 240 a day, none lost, nothing before 30 days ago; edge-c 240 a day, every 4th lost in
    //   its last hour (degraded); spare none (paused); elsewhere 240 a day (another tag).
    const push = (id: number, t: number, lost: boolean) => (times.push(new Date(t).toISOString()), targetIds.push(id), rtts.push(lost ? null : 2000))
    const now = Date.now()
    for (let d = 59; d >= 0; d--) {
      const day0 = today - d * DAY + 6 * 3_600_000
      for (let k = 0; k < 240; k++) {
        const t = day0 + k * 60_000
        if (t > now - 3 * 3_600_000) continue // the last hours are written below
        push(ids['edge-a']!, t, d === 1 ? k < 10 : k < 2)
        if (d < 30) push(ids['edge-b']!, t, false)
        push(ids['edge-c']!, t, false)
        push(ids.elsewhere!, t, false)
      }
    }
    // The last hour: edge-b and edge-c answer (edge-c loses every 4th echo); edge-a is silent.
    for (let k = 1; k <= 60; k++) {
      push(ids['edge-b']!, now - k * 60_000, false)
      push(ids['edge-c']!, now - k * 60_000, k % 4 === 0)
    }
    await sql`
      insert into samples (time, target_id, seq, rtt_us, status)
      select t, id, 0, rtt, case when rtt is null then 1 else 0 end
      from unnest(${textArrayLiteral(times)}::timestamptz[], ${intArrayLiteral(targetIds)}::int[], ${intArrayLiteral(rtts)}::int[]) as x(t, id, rtt)`
    // Materialise the complete days in both tiers (the raw retention of a running `serve` may drop raw
    // chunks older than 3 days); today stays real-time.
    await sql`call refresh_continuous_aggregate('samples_1m', ${new Date(today - 61 * DAY)}::timestamptz, ${new Date(today)}::timestamptz)`
    await sql`call refresh_continuous_aggregate('samples_1h', ${new Date(today - 61 * DAY)}::timestamptz, ${new Date(today)}::timestamptz)`
    await sql`insert into outages (target_id, started_at, lost_rounds, cause) values (${ids['edge-a']!}, now() - interval '2 hours', 2, 'timeout')`
    await sql`
      insert into incidents (rule_id, rule_name, condition, severity, target_id, target_address, target_name, started_at, fired_at, ended_at, end_reason)
      values (null, 'core outage', 'outage', 'critical', ${ids['edge-a']!}, '192.0.2.10', 'edge-a', now() - interval '2 hours', now() - interval '119 minutes', null, null),
             (null, 'core loss', 'loss', 'warning', ${ids['edge-c']!}, '2001:db8::12', 'edge-c', now() - interval '5 days 2 hours', now() - interval '5 days 2 hours', now() - interval '5 days', 'recovered'),
             (null, 'edge loss', 'loss', 'warning', ${ids.elsewhere!}, '192.0.2.14', 'elsewhere', now() - interval '3 hours', now() - interval '3 hours', null, null)`
    await db.destroy({ keep: true })
    h = await DashboardHarness.start(store, { PROBE_ENABLED: 'false', ALERTS_ENABLED: 'false' })
    admin = await h.signedIn('admin', ADMIN_PASSWORD)
  }, 180_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
  })

  it('an admin publishes the tag on /admin, the API’s field error shown first', async () => {
    await admin.goto(`${h.url}/admin`)
    const section = admin.locator('section', { has: admin.getByRole('heading', { name: 'Status pages' }) })
    await section.getByText('No tag is published.').waitFor()
    const form = section.getByRole('form', { name: 'Publish a status page' })
    h.expectHttpError(422, '/status-pages/core%20net')
    await form.getByLabel('Tag').fill('core net')
    await form.getByLabel('Title').fill('Core network')
    await form.getByRole('button', { name: 'Publish' }).click()
    await form.getByRole('alert').filter({ hasText: 'may contain letters, digits and . _ : / - only' }).waitFor()

    await form.getByLabel('Tag').fill('core')
    await form.getByLabel('Description (optional)').fill('Routers and links of the core network.')
    await form.getByRole('button', { name: 'Publish' }).click()
    await form.getByRole('status').filter({ hasText: 'Published /status/core' }).waitFor()
    const row = section.getByRole('table', { name: 'Status pages' }).locator('tbody tr')
    await expect.poll(() => row.count()).toBe(1)
    expect((await row.locator('td').allTextContents()).slice(0, 4)).toEqual(['core', 'Core network', '4', '/status/core'])
    expect(await h.api('GET', '/status-pages')).toMatchObject([{ tag: 'core', title: 'Core network', description: 'Routers and links of the core network.', targets: 4 }])
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('an anonymous browser reads /status/core: states, 90 bars per target, incidents', async () => {
    anon = await h.page({ viewport: { width: 1100, height: 900 } })
    const authorized: string[] = []
    anon.on('request', (r) => {
      if (r.headers().authorization) authorized.push(r.url())
    })
    const t0 = Date.now()
    await anon.goto(`${h.url}/status/core`)
    await anon.getByRole('heading', { name: 'Core network', level: 1 }).waitFor()
    console.log(`[${engine}] public page shown ${Date.now() - t0} ms after navigation`)
    expect(await anon.getByLabel('Username').count()).toBe(0) // no sign-in form
    expect(await anon.evaluate("localStorage.getItem('pingscope.session')")).toBeNull()
    expect(authorized).toEqual([])
    expect(await anon.getByTestId('status-overall').textContent()).toBe('down Outage')
    expect(await anon.getByTestId('status-counts').textContent()).toMatch(/^1 up · 1 degraded · 1 down · 1 paused · updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/)

    // The tag's targets only, by name, each with the API's state.
    const rows = anon.getByTestId('status-target')
    expect(await rows.count()).toBe(4)
    const byRow = await rows.evaluateAll((els) =>
      els.map((e) => [e.querySelector('.status-target-name')?.textContent, e.querySelector('.status')?.textContent, e.querySelectorAll('.uptime-bar').length]),
    )
    expect(byRow).toEqual([
      ['edge-a', 'down', 90],
      ['edge-b', 'up', 90],
      ['edge-c', 'degraded', 90],
      ['spare', 'paused', 90],
    ])
    const pub = await (await fetch(`${h.url}/public/status/core`)).json() as PublicStatusOut
    for (const t of pub.targets) {
      const api = await h.api<{ state: string; state_since: string }>('GET', `/targets/${t.id}`)
      expect([t.name, t.state, t.state_since]).toEqual([t.name, api.state, api.state_since])
    }
    const edgeA = rows.filter({ hasText: 'edge-a' })
    expect(await edgeA.getByTestId('status-since').textContent()).toMatch(/^down since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((1 h 59 min|2 h|2 h 1 min)\)$/)
    expect(await rows.filter({ hasText: 'edge-b' }).getByTestId('status-since').count()).toBe(0) // up: the badge says it

    // Bars: oldest first, the last one today; a day's title gives its figures; no data is grey.
    const bars = edgeA.locator('.uptime-bar')
    const titles = await bars.evaluateAll((els) => els.map((e) => [e.getAttribute('title'), e.className]))
    const yesterday = utcDay(today - DAY)
    expect(titles[88]).toEqual([`${yesterday}: 95.83 % (230 of 240 echoes answered)`, 'uptime-bar bar-major'])
    expect(titles[87]).toEqual([`${utcDay(today - 2 * DAY)}: 99.17 % (238 of 240 echoes answered)`, 'uptime-bar bar-minor'])
    expect(titles[0]).toEqual([`${utcDay(today - 89 * DAY)}: no data`, 'uptime-bar bar-none'])
    expect(titles.filter(([, c]) => c === 'uptime-bar bar-none')).toHaveLength(90 - daysWithData('edge-a'))
    const edgeB = await rows.filter({ hasText: 'edge-b' }).locator('.uptime-bar').evaluateAll((els) => els.map((e) => e.className))
    expect(edgeB.filter((c) => c === 'uptime-bar bar-ok')).toHaveLength(daysWithData('edge-b'))
    expect(edgeB.filter((c) => c === 'uptime-bar bar-none')).toHaveLength(90 - daysWithData('edge-b'))
    expect(await rows.filter({ hasText: 'spare' }).getByTestId('uptime-90d').textContent()).toBe('no data')
    expect(await rows.filter({ hasText: 'edge-b' }).getByTestId('uptime-90d').textContent()).toBe('100.00 % uptime')
    const aPct = pub.targets.find((t) => t.name === 'edge-a')!.uptime_pct!
    expect(await edgeA.getByTestId('uptime-90d').textContent()).toBe(`${aPct.toFixed(2)} % uptime`)
    // Colours: green, lime, amber as the bars' levels say; grey for no data.
    const colours = new Map<string, string>()
    for (const cls of ['bar-none', 'bar-minor', 'bar-major']) colours.set(cls, await edgeA.locator(`.${cls}`).first().evaluate((e) => (e.ownerDocument.defaultView as unknown as { getComputedStyle(x: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor))
    colours.set('bar-ok', await rows.filter({ hasText: 'edge-b' }).locator('.bar-ok').first().evaluate((e) => (e.ownerDocument.defaultView as unknown as { getComputedStyle(x: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor))
    expect(new Set(colours.values()).size, JSON.stringify([...colours])).toBe(4)

    // Incidents of the tag's targets, the newest first; the other tag's is not there.
    const incidents = anon.getByTestId('status-incidents').locator('li')
    expect(await incidents.count()).toBe(2)
    expect(await incidents.nth(0).textContent()).toMatch(/^open core outage on edge-a/)
    expect(await incidents.nth(0).textContent()).toContain('ongoing')
    expect(await incidents.nth(1).textContent()).toMatch(/^resolved core loss on edge-c\d{4}-.* → \d{4}-.*\(2 h 0 min\)$/)
    const text = await anon.locator('body').textContent()
    for (const secret of ['192.0.2', '2001:db8', 'elsewhere', 'edge loss', 'console on port']) expect(text).not.toContain(secret)

    await anon.getByRole('heading', { name: 'Incidents' }).scrollIntoViewIfNeeded()
    await h.screenshot(anon, 'status-page.png')
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('a reload serves the page again; an unknown tag says not found', async () => {
    await anon.reload()
    await anon.getByRole('heading', { name: 'Core network', level: 1 }).waitFor()
    h.expectHttpError(404, '/public/status/nope')
    await anon.goto(`${h.url}/status/nope`)
    await anon.getByRole('heading', { name: 'Status page not found' }).waitFor()
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('an admin unpublishes it: the API answers 404 at once, a new visitor sees not found', async () => {
    const section = admin.locator('section', { has: admin.getByRole('heading', { name: 'Status pages' }) })
    await section.getByRole('button', { name: 'Unpublish' }).click()
    await admin.getByRole('dialog').getByRole('button', { name: 'Unpublish' }).click()
    await section.getByText('No tag is published.').waitFor()
    expect((await fetch(`${h.url}/public/status/core`)).status).toBe(404)
    // (A browser that read the page in the last minute may show its cached copy until max-age=60 runs out.)
    h.expectHttpError(404, '/public/status/core')
    const visitor = await h.page()
    await visitor.goto(`${h.url}/status/core`)
    await visitor.getByRole('heading', { name: 'Status page not found' }).waitFor()
    await anon.getByRole('heading', { name: 'Status page not found' }).waitFor()
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })
})
