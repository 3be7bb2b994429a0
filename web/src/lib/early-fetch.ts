// index.html starts the fleet's first requests (GET /auth/me, /targets/, /fleet/summary) with the stored
// session before this bundle has even loaded, and leaves them in window.__pingscopeBoot. api-client
// takes each over once, for the first GET of the same URL with the same token, and handles its answer as
// it handles any other (a 401 ends the session, an error answer becomes an ApiError); every later
// request is fetched as usual.

interface Boot {
  /** The token the requests were sent with. */
  token: string
  /** The requests by URL (as api-client builds them: same origin, no query). */
  responses: Record<string, Promise<Response>>
}

declare global {
  interface Window {
    __pingscopeBoot?: Boot
  }
}

/** The early response for `url`, if index.html started one with `token` and nobody has taken it yet. */
export function takeEarlyResponse(url: string, token: string | null): Promise<Response> | undefined {
  const boot = window.__pingscopeBoot
  if (!boot || boot.token !== token || !Object.hasOwn(boot.responses, url)) return undefined
  const res = boot.responses[url]
  delete boot.responses[url]
  return res
}
