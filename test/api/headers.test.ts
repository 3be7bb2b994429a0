import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inlineScriptHashes } from '../../src/web/web.plugin.js'
import { type TestApp, buildTestApp } from '../helpers/app.js'

// Security headers (issue 10, item 7) on the API, the dashboard and the API docs. Headers do not depend on
// the engine, so one lane is enough here.
describe('security headers', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp('embedded')
  })
  afterAll(() => t?.close())

  const expectHardened = (headers: Record<string, unknown>) => {
    expect(headers['x-content-type-options']).toBe('nosniff')
    expect(headers['x-frame-options']).toBe('DENY')
    expect(headers['referrer-policy']).toBe('no-referrer')
    const csp = String(headers['content-security-policy'])
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("object-src 'none'")
  }

  it('hardens API answers, errors included', async () => {
    for (const [url, status] of [
      ['/health', 200],
      ['/targets/', 200],
      ['/targets/999999', 404],
      ['/nope', 404],
    ] as const) {
      const res = await t.app.inject({ url, headers: t.admin })
      expect(res.statusCode, url).toBe(status)
      expectHardened(res.headers)
    }
    const unauth = await t.app.inject({ url: '/targets/' })
    expect(unauth.statusCode).toBe(401)
    expectHardened(unauth.headers)
  })

  it('hardens the dashboard page: only its own scripts and styles', async () => {
    const res = await t.app.inject({ url: '/', headers: { accept: 'text/html' } })
    expect(res.statusCode).toBe(200)
    expectHardened(res.headers)
    const csp = String(res.headers['content-security-policy'])
    expect(csp).not.toContain('unsafe-inline')
    // the page's two inline scripts (the theme before first paint, the early requests) are allowed by
    // their hashes, and only they
    const hashes = inlineScriptHashes(res.body)
    expect(hashes).toHaveLength(2)
    expect(csp).toContain(`script-src 'self' ${hashes.join(' ')};`)
    // API answers do not carry the page's exception
    const api = await t.app.inject({ url: '/health' })
    expect(String(api.headers['content-security-policy'])).not.toContain('sha256-')
  })

  it('serves the API docs under the same policy, inline styles allowed there only (never scripts)', async () => {
    const page = await t.app.inject({ url: '/docs/' })
    expect(page.statusCode).toBe(200)
    expectHardened(page.headers)
    expect(inlineScriptHashes(page.body)).toEqual([])
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("style-src 'self' 'unsafe-inline'")
    expect(csp).toMatch(/script-src 'self';/)
    const api = await t.app.inject({ url: '/health' })
    expect(String(api.headers['content-security-policy'])).toMatch(/style-src 'self';/)
  })
})
