import { type AnchorHTMLAttributes, type MouseEvent, useMemo, useSyncExternalStore } from 'react'

// A few routes do not need a routing library: the History API, one store, and a Link that keeps
// normal link behaviour (new tab with Ctrl/Cmd, middle click) and keyboard access. A view's state
// (chart range, zoom, fleet filters, sort) lives in the query string, so reload, Back and a shared
// link show the same view: useSearchParams reads it, updateSearch changes some keys of it.

const listeners = new Set<() => void>()
const notify = () => listeners.forEach((l) => l())
window.addEventListener('popstate', notify)

export function navigate(to: string, opts: { replace?: boolean; scroll?: boolean } = {}) {
  if (to === location.pathname + location.search) return
  history[opts.replace ? 'replaceState' : 'pushState'](null, '', to)
  notify()
  if (opts.scroll !== false) window.scrollTo(0, 0)
}

function subscribe(fn: () => void) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

const href = () => location.pathname + location.search

export function useLocation(): { pathname: string; search: string } {
  const h = useSyncExternalStore(subscribe, href)
  const i = h.indexOf('?')
  return i < 0 ? { pathname: h, search: '' } : { pathname: h.slice(0, i), search: h.slice(i) }
}

/** The current query string, parsed; a new object only when it changes. */
export function useSearchParams(): URLSearchParams {
  const { search } = useLocation()
  return useMemo(() => new URLSearchParams(search), [search])
}

/**
 * Sets (string) or removes (null, undefined, '') keys of the query string, keeping the others and the
 * path. A new history entry by default, so Back returns to the previous view; `replace` for changes
 * too small to step back through (each keystroke of a search). The page does not scroll.
 */
export function updateSearch(changes: Record<string, string | null | undefined>, opts: { replace?: boolean } = {}) {
  const params = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') params.delete(k)
    else params.set(k, v)
  }
  const qs = params.toString()
  navigate(location.pathname + (qs ? `?${qs}` : ''), { replace: opts.replace, scroll: false })
}

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e)
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return <a href={to} onClick={click} {...rest} />
}
