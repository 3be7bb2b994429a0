// Issues 13 + 14 end to end: the built `pingscope serve` with alerting (ALERTS_EVAL_S=1) probing the
// network lab's silent host (a real outage after 3 lost rounds), a webhook receiver on loopback, and
// Debian's Chromium driving the Alerts and Incidents pages: an admin makes a channel and a rule through
// the UI (the API's field errors shown under the field first), the real evaluator opens an incident
// that appears on /incidents, the admin acknowledges it and adds a note (the API says so), filters
// live in the URL, history pages through X-Total-Count, and a viewer reads everything without a single
// write control. Any console error fails the test, except the network log lines of the answers a step
// provokes on purpose (listed with the step). Screenshots go to test-results/.
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IncidentOut, RuleOut } from '../../src/alerts/alerts.schema.js'
import { type HttpReceiver, startHttpReceiver, verifySignature } from '../alerts/receivers.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'
import { type Lab, startLab } from '../helpers/lab.js'
import { ADMIN_PASSWORD, DashboardHarness, RESULTS } from '../helpers/browser.js'
import { freePort } from '../helpers/process.js'

const VIEWER = { username: 'noc', password: 'noc-password-123' }
const HISTORY = 30 // closed incidents written directly: two pages of 25

describe.each(ENGINES)('incidents and alerts pages in Chromium (%s engine)', (engine) => {
  let store: TestStore
  let lab: Lab
  let h: DashboardHarness
  let receiver: HttpReceiver
  let url: string
  let admin: Page
  let token: string
  let secret = ''
  let incidentId = 0
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
  const unexpectedConsoleErrors = () => h.unexpectedConsoleErrors()

  const signedIn = (username: string, password: string): Promise<Page> => h.signedIn(username, password)

  beforeAll(async () => {
    lab = await startLab(['silent'])
    store = await createTestStore(engine)
    const db = await openTestDatabase({ engine, store })
    const rows = await db.sql<{ id: number; name: string }[]>`
      insert into targets (address, name, tags, interval_s, packets, timeout_ms)
      values (${lab.silent}, 'silent', '{lab}', 1, 1, 500), ('127.0.9.1', 'loop-ok', '{lab}', 5, 1, 1000)
      returning id, name`
    for (const r of rows) ids[r.name] = r.id
    // History: closed incidents of a rule since deleted, one an hour, the newest an hour ago.
    await db.sql`
      insert into incidents (rule_id, rule_name, condition, severity, threshold, target_id, target_address, target_name,
                             started_at, fired_at, ended_at, end_reason, peak, notified)
      select null, 'old loss', 'loss', 'warning', 5, ${ids['loop-ok']!}, '127.0.9.1', 'loop-ok',
             now() - make_interval(hours => g), now() - make_interval(hours => g) + interval '2 minutes',
             now() - make_interval(hours => g) + interval '10 minutes', 'recovered', 12.5, true
      from generate_series(1, ${HISTORY}) g`
    await db.destroy({ keep: true })

    receiver = await startHttpReceiver(await freePort(), 'not-the-generated-secret')
    h = await DashboardHarness.start(store, { ALERTS_EVAL_S: '1', ALERTS_GROUP_WAIT_S: '0' })
    ;({ url, token } = h)
    await h.createUser(VIEWER.username, VIEWER.password, 'viewer')
    admin = await signedIn('admin', ADMIN_PASSWORD)
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await receiver?.close()
    await store?.remove()
    await lab?.stop()
  })

  it('answers a reload of /incidents, /incidents/:id and /alerts with the app, and API requests with the API', async () => {
    for (const p of ['/incidents', '/incidents?state=all&severity=critical', '/incidents/1', '/alerts']) {
      const res = await fetch(`${url}${p}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
      expect(res.status, p).toBe(200)
      expect(await res.text()).toContain('<div id="root">')
    }
    const bare = await fetch(`${url}/incidents`)
    expect(bare.status).toBe(401)
    await bare.arrayBuffer()
    const listed = await fetch(`${url}/incidents?state=closed&limit=1`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } })
    expect(listed.status).toBe(200)
    expect(listed.headers.get('x-total-count')).toBe(String(HISTORY))
    expect(((await listed.json()) as IncidentOut[])[0]!.rule_name).toBe('old loss')
  })

  it('creates a webhook channel and shows its generated secret once, masked afterwards', async () => {
    const page = admin
    await page.getByRole('link', { name: 'Alerts', exact: true }).click()
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor()
    const form = page.getByRole('form', { name: 'New channel' })
    await form.getByLabel('Name').fill('receiver')
    await form.getByLabel('Kind').selectOption('webhook')
    await form.getByLabel('URL').fill(`http://127.0.0.1:${receiver.port}/hook`)
    await form.getByRole('button', { name: 'Create channel' }).click()
    secret = (await page.getByTestId('new-secret').textContent()) ?? ''
    expect(secret.length).toBeGreaterThanOrEqual(16)
    const row = page.locator('tr[data-channel-id]', { hasText: 'receiver' })
    await expect.poll(() => row.textContent()).toContain(`****${secret.slice(-4)}`)
    expect(await row.textContent()).not.toContain(secret)
    // Shown once: a reload has only the masked secret.
    await page.reload()
    await row.waitFor()
    expect(await page.getByTestId('new-secret').count()).toBe(0)
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('shows the API field error of a bad rule under its field, then creates the rule', async () => {
    const page = admin
    await page.getByRole('button', { name: 'New rule' }).click()
    const dialog = page.getByRole('dialog', { name: 'New alert rule' })
    await dialog.getByLabel('Name').fill('silent down')
    // The conditions come from the API: wait for them.
    await expect.poll(() => dialog.getByLabel('Condition').locator('option').allTextContents()).toEqual(expect.arrayContaining(['outage', 'loss', 'p95 latency']))
    await dialog.getByLabel('Condition').selectOption('loss')
    await dialog.getByLabel('Scope').selectOption('target')
    await dialog.getByLabel('Target').selectOption(String(ids.silent))
    h.expectHttpError(422, '/alerts/rules')
    await dialog.getByRole('button', { name: 'Create rule' }).click()
    const threshold = dialog.getByLabel('Threshold (%)')
    await expect.poll(() => dialog.locator('.field-invalid', { has: page.getByLabel('Threshold (%)') }).locator('.field-error').textContent()).toContain('is required for a loss rule')
    expect(await threshold.getAttribute('aria-invalid')).toBe('true')
    await expect.poll(() => page.evaluate("document.activeElement?.getAttribute('name')")).toBe('threshold')
    // A threshold over 100 % is refused under the same field.
    await threshold.fill('150')
    await dialog.getByRole('button', { name: 'Create rule' }).click()
    await expect.poll(() => dialog.locator('.field-invalid', { has: page.getByLabel('Threshold (%)') }).textContent()).toContain('at most 100')

    // Now the real one: the silent host's outage, at once, critical, to the receiver.
    await dialog.getByLabel('Condition').selectOption('outage')
    await dialog.getByLabel('Threshold').fill('')
    await dialog.getByLabel('For (s)').fill('0')
    await dialog.getByLabel('Recover (s)').fill('0')
    await dialog.getByLabel('Severity').selectOption('critical')
    await dialog.getByLabel('receiver').check()
    await dialog.getByRole('button', { name: 'Create rule' }).click()
    await dialog.waitFor({ state: 'hidden' })
    const row = page.locator('tr[data-rule-id]', { hasText: 'silent down' })
    await expect.poll(() => row.textContent()).toContain('receiver')
    expect(await row.textContent()).toContain('outage')
    const rules = await api<RuleOut[]>('GET', '/alerts/rules')
    expect(rules).toMatchObject([{ name: 'silent down', scope: 'target', target_id: ids.silent, condition: 'outage', threshold: null, for_s: 0, severity: 'critical' }])
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('shows the incident the evaluator opens, and its filters survive a reload', async () => {
    const page = admin
    await page.getByRole('link', { name: 'Incidents', exact: true }).click()
    const open = page.getByRole('table', { name: 'Open incidents' })
    const row = open.locator('tr[data-incident-id]', { hasText: 'silent down' })
    // 3 lost rounds at 1 s open the outage; the evaluator (every 1 s) fires; the page refreshes every 10 s.
    await row.waitFor({ timeout: 30_000 })
    incidentId = Number(await row.getAttribute('data-incident-id'))
    const text = (await row.textContent()) ?? ''
    expect(text).toMatch(/down since \d\d:\d\d:\d\d UTC \(\d+ (s|min)/)
    expect(text).toContain('critical')
    expect(await row.locator('.severity-critical').count()).toBe(1)
    expect(await row.getByRole('link', { name: 'silent' }).getAttribute('href')).toBe(`/target/${ids.silent}`)

    // Filters in the URL: a reload shows the same list.
    await page.getByLabel('Show').selectOption('all')
    await page.getByLabel('Severity').selectOption('critical')
    await page.getByLabel('Unacknowledged only').check()
    await expect.poll(() => new URL(page.url()).search).toBe('?state=all&severity=critical&unack=1')
    await page.reload()
    await row.waitFor()
    expect(await page.getByLabel('Show').inputValue()).toBe('all')
    expect(await page.getByLabel('Severity').inputValue()).toBe('critical')
    expect(await page.getByLabel('Unacknowledged only').isChecked()).toBe(true)
    // The history has no critical incident.
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe('none')
    await page.getByLabel('Severity').selectOption('info')
    await page.getByText('No open incidents match the filters.').waitFor()

    // History pages through X-Total-Count, the page in the URL too.
    await page.getByLabel('Severity').selectOption('')
    await page.getByLabel('Unacknowledged only').uncheck()
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe(`1–25 of ${HISTORY}`)
    const closed = page.getByRole('table', { name: 'Closed incidents' })
    expect(await closed.locator('tr[data-incident-id]').count()).toBe(25)
    await page.getByRole('button', { name: 'Older' }).click()
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe(`26–${HISTORY} of ${HISTORY}`)
    expect(new URL(page.url()).searchParams.get('page')).toBe('2')
    await expect.poll(() => closed.locator('tr[data-incident-id]').count()).toBe(HISTORY - 25)
    expect(await closed.textContent()).toContain('recovered')
    await page.goBack()
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe(`1–25 of ${HISTORY}`)
    await page.screenshot({ path: path.join(RESULTS, 'web-incidents.png'), fullPage: true })
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('acknowledges the incident and adds a note; the API says so, and the channel got the fire', async () => {
    const page = admin
    await page.getByRole('table', { name: 'Open incidents' }).getByRole('link', { name: `#${incidentId}` }).click()
    await page.waitForURL(`${url}/incidents/${incidentId}`)
    await page.getByRole('heading', { name: /silent down on silent/ }).waitFor()
    await page.getByRole('button', { name: 'Acknowledge' }).click()
    await expect.poll(() => page.getByTestId('incident-facts').textContent()).toContain('by admin')
    expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0)
    await page.getByLabel('New note').fill('uplink of the lab checked')
    await page.getByRole('button', { name: 'Add note' }).click()
    await page.locator('.notes-list li', { hasText: 'uplink of the lab checked' }).waitFor()
    expect(await page.getByLabel('New note').inputValue()).toBe('')

    const inc = await api<IncidentOut & { notifications: { channel_id: number; transition: string; delivered_at: string | null }[] }>('GET', `/incidents/${incidentId}`)
    expect(inc.acknowledged_by).toBe('admin')
    expect(inc.notes).toMatchObject([{ by: 'admin', text: 'uplink of the lab checked' }])
    // The receiver got the fire, signed with the secret the page showed once.
    const fire = receiver.requests.find((r) => r.body.includes(`"incident_id":${incidentId}`))
    expect(fire).toBeDefined()
    expect(verifySignature(Buffer.from(fire!.body), fire!.headers['x-pingscope-signature'] as string, secret)).toBe(true)
    const notification = page.getByRole('table', { name: 'Notifications' }).locator('tr', { hasText: 'receiver' })
    await expect.poll(() => notification.textContent(), { timeout: 20_000 }).toContain('delivered')
    expect(await notification.textContent()).toContain('fire')

    // A reload of the incident's page is the app, not the API's JSON.
    await page.reload()
    await page.getByRole('heading', { name: /silent down on silent/ }).waitFor()
    // Acknowledged: the "unacknowledged" filter no longer lists it.
    await page.goto(`${url}/incidents?unack=1`)
    await page.getByText('No open incidents match the filters.').waitFor()
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('mutes and edits a rule, and creates and ends a silence', async () => {
    const page = admin
    await page.goto(`${url}/alerts`)
    const rule = page.locator('tr[data-rule-id]', { hasText: 'silent down' })
    await rule.getByRole('button', { name: 'Mute', exact: true }).click()
    await rule.getByText('muted', { exact: true }).waitFor()
    expect((await api<RuleOut[]>('GET', '/alerts/rules'))[0]!.muted).toBe(true)
    await rule.getByRole('button', { name: 'Unmute', exact: true }).click()
    await rule.getByRole('button', { name: 'Mute', exact: true }).waitFor()
    // Edit: the form opens with the rule's values; a change is saved with PATCH.
    await rule.getByRole('button', { name: 'Edit' }).click()
    const edit = page.getByRole('dialog', { name: 'Edit rule silent down' })
    expect(await edit.getByLabel('Condition').inputValue()).toBe('outage')
    expect(await edit.getByLabel('Target').inputValue()).toBe(String(ids.silent))
    await edit.getByLabel('Recover (s)').fill('30')
    await edit.getByRole('button', { name: 'Save' }).click()
    await edit.waitFor({ state: 'hidden' })
    await expect.poll(() => rule.textContent()).toContain('0 s / 30 s')
    expect((await api<RuleOut[]>('GET', '/alerts/rules'))[0]).toMatchObject({ recover_s: 30, muted: false, channel_ids: [expect.any(Number)] })

    const form = page.getByRole('form', { name: 'New silence' })
    await form.getByLabel('Silence').selectOption('tag')
    await form.getByLabel('Tag').fill('lab')
    await form.getByLabel('or for').fill('1h')
    await form.getByLabel('Reason').fill('lab switch upgrade')
    await form.getByRole('button', { name: 'Create silence' }).click()
    const silence = page.getByRole('table', { name: 'Silences' }).locator('tr[data-silence-id]', { hasText: 'lab switch upgrade' })
    await silence.getByText('active', { exact: true }).waitFor()
    const [s] = await api<{ tag: string; starts_at: string; ends_at: string; active: boolean }[]>('GET', '/alerts/silences?state=active')
    expect(s).toMatchObject({ tag: 'lab', active: true })
    const lengthMin = (Date.parse(s!.ends_at) - Date.parse(s!.starts_at)) / 60_000
    expect(lengthMin).toBeGreaterThan(59)
    expect(lengthMin).toBeLessThan(61)
    await silence.getByRole('button', { name: 'End now' }).click()
    await silence.waitFor({ state: 'detached' })
    expect(await api<unknown[]>('GET', '/alerts/silences?state=active')).toEqual([])
    await page.screenshot({ path: path.join(RESULTS, 'web-alerts.png'), fullPage: true })
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('lets a viewer read incidents and alerting, with no write control', async () => {
    const page = await signedIn(VIEWER.username, VIEWER.password)
    await page.getByRole('link', { name: 'Incidents', exact: true }).click()
    const row = page.getByRole('table', { name: 'Open incidents' }).locator(`tr[data-incident-id="${incidentId}"]`)
    await row.waitFor()
    expect(await row.textContent()).toContain('admin') // acknowledged by
    await row.getByRole('link', { name: `#${incidentId}` }).click()
    await page.locator('.notes-list li', { hasText: 'uplink of the lab checked' }).waitFor()
    expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Add note' }).count()).toBe(0)
    expect(await page.getByLabel('New note').count()).toBe(0)

    await page.getByRole('link', { name: 'Alerts', exact: true }).click()
    await page.locator('tr[data-rule-id]', { hasText: 'silent down' }).waitFor()
    await page.locator('tr[data-channel-id]', { hasText: 'receiver' }).waitFor()
    for (const name of ['New rule', 'Edit', 'Mute', 'Delete', 'Create silence', 'Create channel', 'Disable', 'End now']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0)
    }
    expect(await page.locator('form').count()).toBe(0)
    expect(unexpectedConsoleErrors()).toEqual([])
  })

  it('deletes the rule from the page: its incident closes and moves to the history', async () => {
    const page = admin
    await page.goto(`${url}/alerts`)
    const rule = page.locator('tr[data-rule-id]', { hasText: 'silent down' })
    await rule.getByRole('button', { name: 'Delete' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete rule silent down?' })
    await dialog.getByRole('button', { name: 'Delete rule' }).click()
    await rule.waitFor({ state: 'detached' })
    const inc = await api<IncidentOut>('GET', `/incidents/${incidentId}`)
    expect(inc).toMatchObject({ ongoing: false, end_reason: 'rule_deleted' })
    await page.goto(`${url}/incidents?state=all`)
    await page.getByText('No open incidents.').waitFor()
    await page.getByRole('table', { name: 'Closed incidents' }).locator(`tr[data-incident-id="${incidentId}"]`, { hasText: 'rule deleted' }).waitFor()
    expect(unexpectedConsoleErrors()).toEqual([])
  })
})
