// A cold load of the dashboard's fleet (issue 14) in Chromium against the built `pingscope serve`: it
// loads only the first chunk (no chart code until a target page opens), takes over the three requests
// index.html sent before the bundle ran instead of repeating them, ends a refused session as any request
// does, and gets each asset precompressed in the encoding it prefers. Any console error fails the test
// (a CSP violation of the inline scripts included).
//
// One engine only: what is asserted here is the build and the page's requests; dashboard.test.ts drives
// the same pages against both engines.
import { readFileSync, readdirSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUNDLE_RUN_MARK, FLEET_READY_MARK, insertFleet, sessionInitScript } from '../../scripts/bench/fleet.js'
import { type TestStore, createTestStore, openTestDatabase } from '../helpers/db.js'
import { ADMIN_PASSWORD, DashboardHarness } from '../helpers/browser.js'
import { ROOT } from '../helpers/process.js'

const ASSETS = path.join(ROOT, 'web', 'dist', 'assets')

/** The built chunks whose source maps name any of `sources` (chunk file names). */
function chunksWith(...sources: string[]): string[] {
  return readdirSync(ASSETS)
    .filter((f) => f.endsWith('.js.map'))
    .filter((f) => {
      const map = JSON.parse(readFileSync(path.join(ASSETS, f), 'utf8')) as { sources: string[] }
      return map.sources.some((s) => sources.some((x) => s.includes(x)))
    })
    .map((f) => f.slice(0, -'.map'.length))
}

/** The scripts index.html loads itself: the entry and the chunks it modulepreloads. */
function firstChunks(): string[] {
  const html = readFileSync(path.join(ROOT, 'web', 'dist', 'index.html'), 'utf8')
  return [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!)
}

/** A GET with exactly these headers, the body as sent (fetch would decode it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const parts: Buffer[] = []
        res.on('data', (b: Buffer) => parts.push(b))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }))
        res.on('error', reject)
      })
      .on('error', reject)
  })
}

describe('the fleet’s cold load in Chromium (embedded engine)', () => {
  let store: TestStore
  let h: DashboardHarness
  let session: { access_token: string; expires_in: number }

  /** A fresh page (empty cache) with `token` stored as the session, recording the paths it requests. */
  const coldPage = async (token: string, expiresInS: number): Promise<{ page: Page; requested: string[] }> => {
    const page = await h.page({ initScripts: [sessionInitScript(token, expiresInS)] })
    const requested: string[] = []
    page.on('request', (r) => requested.push(new URL(r.url()).pathname))
    return { page, requested }
  }
  const count = (requested: string[], p: string) => requested.filter((r) => r === p).length

  beforeAll(async () => {
    store = await createTestStore('embedded')
    const db = await openTestDatabase({ engine: 'embedded', store })
    await insertFleet(db.sql, 20, { paused: true })
    await db.destroy({ keep: true })
    h = await DashboardHarness.start(store)
    session = await h.session()
  }, 150_000)

  afterAll(async () => {
    await h?.stop()
    await store?.remove()
  })

  it('loads no chart code for the fleet, and reuses the requests index.html sent', async () => {
    const chartChunks = chunksWith('node_modules/uplot/', 'features/targets/chart/')
    const targetPageChunks = chunksWith('features/targets/components/target-page.tsx')
    expect(chartChunks.length).toBeGreaterThan(0)
    expect(targetPageChunks.length).toBeGreaterThan(0)
    expect(firstChunks().filter((c) => chartChunks.includes(c) || targetPageChunks.includes(c))).toEqual([])

    const { page, requested } = await coldPage(session.access_token, session.expires_in)
    await page.goto(`${h.url}/`)
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, FLEET_READY_MARK)
    expect(await page.locator('tr[data-target-id]').count()).toBeGreaterThan(0)

    // Only the first chunks: no page chunk, no chart.
    const scripts = requested.filter((p) => p.endsWith('.js')).map((p) => p.replace('/assets/', ''))
    expect(scripts.sort()).toEqual(firstChunks().sort())
    // Each of the fleet's requests once, sent by index.html before the bundle had run.
    for (const p of ['/auth/me', '/targets/', '/fleet/summary']) expect(count(requested, p), p).toBe(1)
    const early = await page.evaluate<{ name: string; before: boolean }[]>(`(() => {
      const run = performance.getEntriesByName('${BUNDLE_RUN_MARK}')[0].startTime;
      return performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch')
        .map((e) => ({ name: new URL(e.name).pathname, before: e.startTime < run }));
    })()`)
    expect(early.filter((e) => e.before).map((e) => e.name).sort()).toEqual(['/auth/me', '/fleet/summary', '/targets/'])

    // The chart's chunk loads when a target page opens.
    await page.getByRole('link', { name: 'node-0000', exact: true }).click()
    await page.locator('[data-testid=latency-chart] canvas').first().waitFor()
    const loaded = requested.map((p) => p.replace('/assets/', ''))
    expect(chartChunks.some((c) => loaded.includes(c))).toBe(true)
    expect(targetPageChunks.every((c) => loaded.includes(c))).toBe(true)
    // The early answers were taken once: back on the fleet, the app asks itself (or uses its cache).
    expect(await page.evaluate('Object.keys(window.__pingscopeBoot.responses)')).toEqual([])
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('ends a session the server refuses, from the early answers, as any request does', async () => {
    for (const p of ['/auth/me', '/targets/', '/fleet/summary']) h.expectHttpError(401, p)
    const { page, requested } = await coldPage('revoked.jwt.token', 3600)
    await page.goto(`${h.url}/`)
    await page.getByText('Your session expired. Please sign in again.').waitFor()
    expect(await page.evaluate(`localStorage.getItem('pingscope.session')`)).toBeNull()
    for (const p of ['/auth/me', '/targets/', '/fleet/summary']) expect(count(requested, p), p).toBe(1)

    // Signing in again asks afresh, with the new token.
    await page.getByLabel('Username').fill('admin')
    await page.getByLabel('Password').fill(ADMIN_PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('tr[data-target-id]').first().waitFor()
    expect(count(requested, '/auth/me')).toBe(2)
    expect(h.unexpectedConsoleErrors()).toEqual([])
  })

  it('serves each asset precompressed in the encoding the client prefers', async () => {
    const assets = readdirSync(ASSETS).filter((f) => /\.(js|css)$/.test(f))
    const entry = firstChunks()[0]!
    const css = assets.find((f) => f.endsWith('.css'))!
    for (const name of [entry, css]) {
      const file = readFileSync(path.join(ASSETS, name))
      const url = `${h.url}/assets/${name}`

      const br = await rawGet(url, { 'accept-encoding': 'gzip, deflate, br' })
      expect(br.status).toBe(200)
      expect(br.headers['content-encoding']).toBe('br')
      // Once: the global compressor left the answer alone.
      expect(String(br.headers.vary).split(',').filter((v) => v.trim() === 'accept-encoding')).toHaveLength(1)
      expect(br.headers['content-type']).toMatch(name.endsWith('.js') ? /javascript/ : /text\/css/)
      expect(br.body.equals(readFileSync(path.join(ASSETS, `${name}.br`))), `${name}: the .br file as it is`).toBe(true)
      expect(brotliDecompressSync(br.body).equals(file)).toBe(true)

      const gz = await rawGet(url, { 'accept-encoding': 'gzip' })
      expect(gz.headers['content-encoding']).toBe('gzip')
      expect(gz.body.equals(readFileSync(path.join(ASSETS, `${name}.gz`)))).toBe(true)
      expect(gunzipSync(gz.body).equals(file)).toBe(true)

      const plain = await rawGet(url, {})
      expect(plain.headers['content-encoding']).toBeUndefined()
      expect(plain.body.equals(file)).toBe(true)
    }
    // Every asset but the source maps has both copies.
    for (const f of assets) expect(readdirSync(ASSETS).filter((x) => x === `${f}.br` || x === `${f}.gz`), f).toHaveLength(2)
  })
})
