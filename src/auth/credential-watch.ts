import type { Sql } from '../db/open.js'
import { type AuthFailure, type VerifyJwt, authenticateBearer } from './auth.service.js'

// Long-lived requests (the GET /live event stream) are authenticated once, when they open. The watch
// re-checks their bearer credential with the same rule as every request: every `intervalMs`, which
// catches changes made by any process (the CLI, psql) and JWT expiry, and at once when this process
// changes a user or revokes a token (`changed()`, called by the auth service functions).

export interface CredentialWatch {
  /** Calls `onInvalid` once, when `token` stops being valid; returns the function that stops watching. */
  watch(token: string, onInvalid: (failure: AuthFailure) => void): () => void
  /** A user or token changed in this process: re-check every watched credential now. */
  changed(): void
  /** Watched credentials (for tests and diagnostics). */
  size(): number
  close(): void
}

interface Watched {
  token: string
  onInvalid: (failure: AuthFailure) => void
  timer: NodeJS.Timeout
  running: boolean
  /** A re-check was asked for while one ran (it may have read the row before the change committed). */
  again: boolean
}

export function createCredentialWatch(opts: {
  sql: Sql
  verifyJwt: VerifyJwt
  /** Default 3 s: a change made by another process ends a stream well within 5 s, even on a busy engine. */
  intervalMs?: number
  onError?: (err: unknown) => void
}): CredentialWatch {
  const intervalMs = opts.intervalMs ?? 3000
  const watched = new Set<Watched>()

  const stop = (w: Watched) => {
    clearInterval(w.timer)
    watched.delete(w)
  }

  async function check(w: Watched): Promise<void> {
    if (w.running) {
      w.again = true
      return
    }
    w.running = true
    try {
      do {
        w.again = false
        const result = await authenticateBearer(opts.sql, w.token, opts.verifyJwt)
        if (!watched.has(w)) return // stopped meanwhile (the client went away)
        if (result.failure) {
          stop(w)
          w.onInvalid(result.failure)
          return
        }
      } while (w.again)
    } catch (err) {
      // The database not answering is not a revoked credential: keep the stream, try again next time.
      opts.onError?.(err)
    } finally {
      w.running = false
    }
  }

  return {
    watch(token, onInvalid) {
      const w: Watched = { token, onInvalid, running: false, again: false, timer: setInterval(() => void check(w), intervalMs) }
      w.timer.unref()
      watched.add(w)
      return () => stop(w)
    },
    changed() {
      for (const w of watched) void check(w)
    },
    size: () => watched.size,
    close() {
      for (const w of watched) stop(w)
    },
  }
}
