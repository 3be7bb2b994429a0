import { useSyncExternalStore } from 'react'

// The signed-in session: the bearer token and when it expires, kept in localStorage so that tabs
// share it. Ending a session may leave a reason for the login page ("session expired").

export interface Session {
  token: string
  expiresAt: number
}

const KEY = 'pingscope.session'
const REASON_KEY = 'pingscope.logout-reason'
const listeners = new Set<() => void>()
let current: Session | null = read()
let expiryTimer: ReturnType<typeof setTimeout> | undefined

function read(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null
    return s && typeof s.token === 'string' && typeof s.expiresAt === 'number' && s.expiresAt > Date.now() ? s : null
  } catch {
    return null
  }
}

function notify() {
  clearTimeout(expiryTimer)
  // setTimeout takes at most 2^31-1 ms (~24.8 days); longer sessions are re-checked on the next change.
  if (current) expiryTimer = setTimeout(() => endSession('Your session expired. Please sign in again.'), Math.min(current.expiresAt - Date.now(), 2 ** 31 - 1))
  for (const l of listeners) l()
}

export function startSession(token: string, expiresInS: number) {
  current = { token, expiresAt: Date.now() + expiresInS * 1000 }
  localStorage.setItem(KEY, JSON.stringify(current))
  sessionStorage.removeItem(REASON_KEY)
  notify()
}

/** Signs out; `reason` is shown on the login page. */
export function endSession(reason: string) {
  if (!current) return
  current = null
  localStorage.removeItem(KEY)
  sessionStorage.setItem(REASON_KEY, reason)
  notify()
}

export const getToken = (): string | null => current?.token ?? null

/** The reason the last session ended (once). */
export function takeLogoutReason(): string | null {
  const r = sessionStorage.getItem(REASON_KEY)
  sessionStorage.removeItem(REASON_KEY)
  return r
}

function subscribe(fn: () => void) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

// Another tab signed in or out.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return
  current = read()
  notify()
})
if (current) notify()

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, () => current)
}
