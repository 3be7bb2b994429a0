import { env } from '../config/env'
import { takeEarlyResponse } from './early-fetch'
import { endSession, getToken } from './session'

// The one way the dashboard talks to the API: bearer token, JSON, and the API's own error wording.
// Every error is an ApiError: `detail` is the API's {"detail"} as sent (a string, or the 422 list of
// {loc, msg}); status 0 means the API could not be reached at all (only then do we say so). A 401 on
// anything but the login itself ends the session, which sends the user to the login page.

export interface FieldProblem {
  loc: (string | number)[]
  msg: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(describe(status, detail))
    this.name = 'ApiError'
  }

  /** 422 problems by field name (`ip`, `tags`, …): the first message of each. */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {}
    if (!Array.isArray(this.detail)) return out
    for (const p of this.detail as FieldProblem[]) {
      const path = (p.loc ?? []).filter((x, i) => !(i === 0 && (x === 'body' || x === 'querystring' || x === 'params')))
      const name = String(path[0] ?? '')
      out[name] ??= p.msg
    }
    return out
  }
}

function describe(status: number, detail: unknown): string {
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) {
    return (detail as FieldProblem[]).map((p) => `${(p.loc ?? []).filter((x) => x !== 'body').join('.') || 'request'}: ${p.msg}`).join('; ')
  }
  return `Request failed (HTTP ${status})`
}

export type Query = Record<string, string | number | boolean | null | undefined>

interface RequestOptions {
  query?: Query
  body?: unknown
  signal?: AbortSignal
}

function url(path: string, query?: Query): string {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
  const s = qs.toString()
  return `${env.apiUrl}${path}${s ? `?${s}` : ''}`
}

async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = getToken()
  if (token) headers.authorization = `Bearer ${token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const target = url(path, opts.query)
  // A cold load of the fleet: index.html has already sent this GET (lib/early-fetch.ts).
  const early = method === 'GET' ? takeEarlyResponse(target, token) : undefined
  let res: Response
  try {
    res = await (early ??
      fetch(target, {
        method,
        headers,
        body: opts.body === undefined ? null : JSON.stringify(opts.body),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }))
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'The pingscope API is unreachable. Check that the server is running.')
  }
  if (res.ok) return res
  let detail: unknown = res.statusText || `HTTP ${res.status}`
  const text = await res.text()
  try {
    detail = (JSON.parse(text) as { detail?: unknown }).detail ?? detail
  } catch {
    if (text) detail = text
  }
  if (res.status === 401 && path !== '/auth/login') endSession('Your session expired. Please sign in again.')
  throw new ApiError(res.status, detail)
}

async function json<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
  const res = await send(method, path, opts)
  return (res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text()) as T
}

/** One page of a list and the number of matches the API counted (X-Total-Count). */
async function page<T>(path: string, query?: Query, signal?: AbortSignal): Promise<{ items: T[]; total: number }> {
  const res = await send('GET', path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) })
  const items = (await res.json()) as T[]
  return { items, total: Number(res.headers.get('x-total-count') ?? items.length) }
}

/** A file download with the bearer token (a plain link could not send it): saves the response body. */
async function download(path: string, query?: Query): Promise<{ filename: string; bytes: number }> {
  const res = await send('GET', path, query ? { query } : {})
  const blob = await res.blob()
  const filename = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'download'
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
  return { filename, bytes: blob.size }
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => json<T>('GET', path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) }),
  post: <T>(path: string, body?: unknown) => json<T>('POST', path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => json<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => json<T>('PUT', path, { body }),
  delete: <T>(path: string) => json<T>('DELETE', path),
  page,
  download,
  /** URL of the live event stream (EventSource cannot send headers: the token goes in the query). */
  liveUrl: () => url('/live', { access_token: getToken() }),
}
