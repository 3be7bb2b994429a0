// The dashboard tests' shared harness: the built `pingscope serve` on a test store, an admin token for
// direct API calls, Debian's Chromium, and pages that record every console error. A test names the error
// answers it provokes on purpose (`expectHttpError`); any other console error fails it
// (`unexpectedConsoleErrors()` must stay empty).
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../../scripts/bench/fleet.js'
import type { TestStore } from './db.js'
import { ROOT, type Spawned, freePort, spawnCli, stopSpawned, waitForHealthy } from './process.js'

export const RESULTS = path.join(ROOT, 'test-results')
export const ADMIN_PASSWORD = 'admin-password-123'

export interface ConsoleLine {
  text: string
  url: string
}

export interface PageOptions {
  viewport?: { width: number; height: number }
  /** Default UTC; null: the browser's own. */
  timezoneId?: string | null
  locale?: string
  acceptDownloads?: boolean
  /** Scripts run in every page of the context before its own (a stored session, test probes). */
  initScripts?: string[]
}

export class DashboardHarness {
  readonly consoleErrors: ConsoleLine[] = []
  private readonly expected: { status: number; path: string }[] = []
  private readonly contexts: BrowserContext[] = []

  private constructor(
    readonly url: string,
    readonly token: string,
    readonly browser: Browser,
    private readonly serve: Spawned,
  ) {}

  /** Starts `pingscope serve` on the store (admin password ADMIN_PASSWORD, `env` on top) and Chromium. */
  static async start(store: TestStore, env: Record<string, string> = {}): Promise<DashboardHarness> {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const serve = spawnCli(['serve'], { ...store.env, PORT: String(port), ADMIN_PASSWORD, LOG_LEVEL: 'warn', ...env })
    try {
      await waitForHealthy(url, 90_000)
      const res = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      })
      if (!res.ok) throw new Error(`admin login: ${res.status} ${await res.text()}`)
      const token = ((await res.json()) as { access_token: string }).access_token
      mkdirSync(RESULTS, { recursive: true })
      return new DashboardHarness(url, token, await launchChromium(), serve)
    } catch (e) {
      await stopSpawned([serve])
      throw e
    }
  }

  /** The admin's session as the login answers it (for a page that starts signed in). */
  async session(): Promise<{ access_token: string; expires_in: number }> {
    const res = await fetch(`${this.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    })
    return (await res.json()) as { access_token: string; expires_in: number }
  }

  /** An API call as the admin (or `bearer`); throws with the answer's body unless it is 2xx. */
  async api<T>(method: string, p: string, body?: unknown, bearer = this.token): Promise<T> {
    const res = await fetch(`${this.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
    return (res.status === 204 ? undefined : await res.json()) as T
  }

  /** Creates a user with `role` through the API. */
  async createUser(username: string, password: string, role: 'admin' | 'viewer'): Promise<void> {
    await this.api('POST', '/users', { username, password, role })
  }

  /** A fresh browser context's page whose console errors are recorded. */
  async page(opts: PageOptions = {}): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: opts.viewport ?? { width: 1400, height: 900 },
      locale: opts.locale ?? 'en-US',
      acceptDownloads: opts.acceptDownloads ?? false,
      ...(opts.timezoneId === null ? {} : { timezoneId: opts.timezoneId ?? 'UTC' }),
    })
    this.contexts.push(context)
    for (const script of opts.initScripts ?? []) await context.addInitScript(script)
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push({ text: m.text(), url: m.location().url })
    })
    page.on('pageerror', (e) => this.consoleErrors.push({ text: `uncaught: ${e.message}`, url: '' }))
    return page
  }

  /** A page signed in through the login form, on the fleet. */
  async signedIn(username: string, password: string, opts: PageOptions = {}): Promise<Page> {
    const page = await this.page(opts)
    await page.goto(`${this.url}/`)
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Fleet' }).waitFor()
    return page
  }

  /** Declares that a step provokes `status` from `path` on purpose: its network log line is not a failure. */
  expectHttpError(status: number, p: string): void {
    this.expected.push({ status, path: p })
  }

  unexpectedConsoleErrors(): ConsoleLine[] {
    return this.consoleErrors.filter(
      (e) => !this.expected.some((x) => e.text.includes(`status of ${x.status}`) && e.url !== '' && new URL(e.url).pathname === x.path),
    )
  }

  /** A screenshot under test-results/ (the artifacts). */
  async screenshot(page: Page, file: string): Promise<string> {
    const out = path.join(RESULTS, file)
    await page.screenshot({ path: out, fullPage: true })
    return out
  }

  async stop(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined)
    await this.browser.close().catch(() => undefined)
    await stopSpawned([this.serve])
  }
}
