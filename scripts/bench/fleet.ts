// Benchmark: the dashboard's fleet view with 1,000 targets, measured in the browser. A fresh data
// directory gets 1,000 loopback targets (127.1.x.y, probed every 60 s) and an hour of synthetic history
// each (so every row has loss, p95 and a sparkline); `pingscope serve` runs on it; Debian's Chromium,
// driven by playwright-core, loads the fleet cold (new browser context: empty cache) several times.
// Figures, all from the page's own clock (performance.now, origin = navigation start):
//   interactive  the app's mark `pingscope:fleet-interactive`: every target listed and painted, the table usable
//   ready   the app's mark `pingscope:fleet-ready`: the last-hour figures (loss, p95, sparklines) painted too
//   search  typing into the search box until the filtered table is painted
//   sort    clicking a column header until the re-sorted table is painted
//   longest the longest main-thread task before ready (PerformanceObserver 'longtask')
// and, per load, where the time went: when each script, stylesheet and API request started and ended
// (Resource Timing; `early` marks a request sent by index.html's inline script, before the bundle), and
// when the bundle had run (the app's mark `pingscope:bundle-run`, web/src/main.tsx).
//
//   npm run build && node dist/scripts/bench/fleet.js [--targets 1000] [--runs 5] [--port 6768] [--link 20:40]
//
// --link <mbit/s>:<ms> has Chromium emulate a network link (DevTools Network.emulateNetworkConditions:
// that throughput down and up, that round-trip latency) instead of loopback, where the size of an answer
// costs nothing to move and compression only costs CPU.
//
// The dashboard tests (test/web) use the browser helpers exported here.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { type Browser, type Page, chromium } from 'playwright-core'
import { loadConfig } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'
import { type Sql, openDatabase } from '../../src/db/open.js'
import { createLogger } from '../../src/log.js'
import { projectRoot } from '../../src/paths.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// web/src/features/fleet/components/fleet-page.tsx
export const FLEET_INTERACTIVE_MARK = 'pingscope:fleet-interactive'
export const FLEET_READY_MARK = 'pingscope:fleet-ready'
// web/src/main.tsx
export const BUNDLE_RUN_MARK = 'pingscope:bundle-run'

/**
 * Debian's Chromium, headless. playwright-core never downloads a browser; launch() gives every browser
 * a fresh temporary profile (--user-data-dir) and removes it on close.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run node scripts/test-setup.mjs (apt-get install chromium) as root`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** Script run before the page's own: a signed-in session, and a record of long tasks. */
export function sessionInitScript(token: string, expiresInS: number): string {
  const session = JSON.stringify({ token, expiresAt: Date.now() + expiresInS * 1000 })
  return `
    localStorage.setItem('pingscope.session', ${JSON.stringify(session)});
    window.__longTasks = [];
    try {
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration }) })
        .observe({ type: 'longtask', buffered: true });
    } catch (e) {}`
}

export interface FleetTiming {
  interactiveMs: number
  readyMs: number
  rows: number
  searchMs: number
  sortMs: number
  longestTaskMs: number
}

// Browser-side code is passed as strings: this file is compiled for Node (no DOM types).
const WAIT_PAINT = 'new Promise((r) => requestAnimationFrame(() => setTimeout(r)))'

/** Loads the fleet (the page must hold a session) and measures it; see the header for the figures. */
export async function measureFleet(page: Page, baseUrl: string, expectRows: number): Promise<FleetTiming> {
  await page.goto(`${baseUrl}/`)
  await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, FLEET_READY_MARK, { timeout: 60_000 })
  const ready = await page.evaluate<{ at: number; interactive: number; rows: number; longest: number }>(`(() => {
    const m = performance.getEntriesByName('${FLEET_READY_MARK}')[0];
    const i = performance.getEntriesByName('${FLEET_INTERACTIVE_MARK}')[0];
    const tasks = (window.__longTasks || []).filter((t) => t.start < m.startTime);
    return { at: m.startTime, interactive: i.startTime, rows: m.detail.targets, longest: Math.max(0, ...tasks.map((t) => t.ms)) };
  })()`)
  if (ready.rows < expectRows) throw new Error(`the fleet listed ${ready.rows} targets, expected ${expectRows}`)

  // Type a query that matches one target in ten, then wait for the table to show the result.
  const searchMs = await page.evaluate<number>(`(async () => {
    const input = document.querySelector('input[type=search]');
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const t0 = performance.now();
    setter.call(input, 'node-00');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await ${WAIT_PAINT};
    const ms = performance.now() - t0;
    setter.call(input, '');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await ${WAIT_PAINT};
    return ms;
  })()`)
  const sortMs = await page.evaluate<number>(`(async () => {
    const button = [...document.querySelectorAll('th button.sort')].find((b) => b.textContent.startsWith('p95'));
    const t0 = performance.now();
    button.click();
    await ${WAIT_PAINT};
    return performance.now() - t0;
  })()`)
  return { interactiveMs: ready.interactive, readyMs: ready.at, rows: ready.rows, searchMs, sortMs, longestTaskMs: ready.longest }
}

/**
 * `count` loopback targets 127.1.x.y at 60 s (paused: never probed), with an hour of synthetic samples
 * each (one a minute).
 */
export async function insertFleet(sql: Sql, count: number, opts: { paused?: boolean } = {}): Promise<void> {
  await sql`
    insert into targets (address, name, tags, interval_s, packets, enabled)
    select '127.1.' || (g / 250) || '.' || (g % 250 + 1), 'node-' || lpad(g::text, 4, '0'),
      array['rack-' || (g % 20), case when g % 3 = 0 then 'core' else 'edge' end], 60, 1, ${!opts.paused}
    from generate_series(0, ${count - 1}) g`
  // Deterministic figures: RTT 50–450 µs, every 40th echo lost.
  await sql`
    insert into samples (time, target_id, seq, rtt_us, ttl, status)
    select date_trunc('minute', now()) - make_interval(mins => m), t.id, 0,
      case when (t.id * 7 + m) % 40 = 0 then null else 50 + (t.id * 37 + m * 13) % 400 end,
      case when (t.id * 7 + m) % 40 = 0 then null else 64 end,
      case when (t.id * 7 + m) % 40 = 0 then 1 else 0 end
    from targets t, generate_series(1, 60) m
    where t.address like '127.1.%'`
}

export interface LoadTimeline {
  /** When the bundle had loaded and run (ms from navigation start). */
  bundleRunMs: number
  /** The page's scripts, stylesheets and API requests, in start order. */
  resources: { name: string; startMs: number; endMs: number; bytes: number; early: boolean }[]
}

/** Where a measured load's time went (call after measureFleet, on the same page). */
export async function loadTimeline(page: Page): Promise<LoadTimeline> {
  return page.evaluate<LoadTimeline>(`(() => {
    const run = performance.getEntriesByName('${BUNDLE_RUN_MARK}')[0];
    const ready = performance.getEntriesByName('${FLEET_READY_MARK}')[0];
    const resources = performance.getEntriesByType('resource')
      .filter((e) => e.startTime < ready.startTime && !e.name.includes('/live'))
      .map((e) => ({ name: new URL(e.name).pathname.replace('/assets/', ''), startMs: e.startTime, endMs: e.responseEnd,
        bytes: e.transferSize, early: e.initiatorType === 'fetch' && e.startTime < run.startTime }));
    return { bundleRunMs: run.startTime, resources };
  })()`)
}

const describeTimeline = (t: LoadTimeline) =>
  `bundle run at ${t.bundleRunMs.toFixed(0)} ms; ` +
  t.resources.map((r) => `${r.name}${r.early ? ' (early)' : ''} ${r.startMs.toFixed(0)}–${r.endMs.toFixed(0)} ms ${(r.bytes / 1024).toFixed(0)} KB`).join(', ')

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main() {
  const opts = new Command()
    .option('--targets <n>', 'targets in the fleet', '1000')
    .option('--runs <n>', 'cold page loads', '5')
    .option('--port <n>', 'port for the started server', '6768')
    .option('--link <mbit:ms>', 'emulate a network link of this throughput (Mbit/s) and round-trip latency (ms)')
    .parse()
    .opts<{ targets: string; runs: string; port: string; link?: string }>()
  const link = opts.link ? /^(\d+(?:\.\d+)?):(\d+)$/.exec(opts.link) : null
  if (opts.link && !link) throw new Error('--link: give <Mbit/s>:<ms>, e.g. 20:40')
  const count = Number(opts.targets)
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pingscope-bench-fleet-'))
  const log = createLogger('warn', 'bench')
  const password = 'bench-password-123'
  const url = `http://127.0.0.1:${opts.port}`
  let browser: Browser | undefined
  let server: ReturnType<typeof spawn> | undefined
  try {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
    const db = await openDatabase(config, { log })
    await migrate(db.sql)
    await insertFleet(db.sql, count)
    await db.close()

    server = spawn(process.execPath, [path.join(projectRoot(), 'dist/cli/index.js'), 'serve'], {
      env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), DATA_DIR: dataDir, PORT: opts.port, ADMIN_PASSWORD: password, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    for (let t0 = Date.now(); ; ) {
      if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break
      if (Date.now() - t0 > 90_000) throw new Error('pingscope serve did not become healthy in 90 s')
      await new Promise((r) => setTimeout(r, 200))
    }
    const login = (await (
      await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })
    ).json()) as { access_token: string; expires_in: number }

    browser = await launchChromium()
    const cpus = os.cpus()
    console.log(
      `fleet view, ${count} targets, ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Chromium ${browser.version()}, ${link ? `link ${link[1]} Mbit/s, ${link[2]} ms RTT` : 'loopback'}, load ${os.loadavg()[0]!.toFixed(1)}`,
    )
    const runs: FleetTiming[] = []
    for (let i = 0; i < Number(opts.runs); i++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
      await context.addInitScript(sessionInitScript(login.access_token, login.expires_in))
      const page = await context.newPage()
      if (link) {
        const bytesPerS = (Number(link[1]) * 1e6) / 8
        const cdp = await context.newCDPSession(page)
        await cdp.send('Network.enable')
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: Number(link[2]), downloadThroughput: bytesPerS, uploadThroughput: bytesPerS })
      }
      const r = await measureFleet(page, url, count)
      runs.push(r)
      console.log(
        `run ${i + 1}: interactive ${r.interactiveMs.toFixed(0)} ms, ready ${r.readyMs.toFixed(0)} ms (${r.rows} targets), search ${r.searchMs.toFixed(0)} ms, sort ${r.sortMs.toFixed(0)} ms, longest task ${r.longestTaskMs.toFixed(0)} ms`,
      )
      console.log(`  ${describeTimeline(await loadTimeline(page))}`)
      await context.close()
    }
    const m = (k: keyof FleetTiming) => median(runs.map((r) => r[k])).toFixed(0)
    console.log(
      `median: interactive ${m('interactiveMs')} ms, ready ${m('readyMs')} ms, search ${m('searchMs')} ms, sort ${m('sortMs')} ms, longest task ${m('longestTaskMs')} ms (load ${os.loadavg()[0]!.toFixed(1)})`,
    )
  } finally {
    await browser?.close()
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r))
      server.kill('SIGTERM')
      await exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
