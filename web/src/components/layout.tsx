import type { ReactNode } from 'react'
import { Link, useLocation } from '../lib/router'
import { setTheme, useTheme } from '../lib/theme'
import { useLiveStatus } from '../lib/live'
import { setTimeZone, useTimeZone } from '../lib/time-zone'

export function Layout(props: { username: string; role: string; onLogout: () => void; children: ReactNode }) {
  const { pathname } = useLocation()
  const theme = useTheme()
  const live = useLiveStatus()
  const zone = useTimeZone()
  const nav = [
    { to: '/', label: 'Fleet', active: pathname === '/' || pathname.startsWith('/target/') },
    // Viewers cannot add targets: no link to a form they could only be refused by.
    ...(props.role === 'admin' ? [{ to: '/add', label: 'Add targets', active: pathname === '/add' }] : []),
    { to: '/incidents', label: 'Incidents', active: pathname === '/incidents' || pathname.startsWith('/incidents/') },
    { to: '/events', label: 'Events', active: pathname === '/events' },
    { to: '/alerts', label: 'Alerts', active: pathname === '/alerts' },
    { to: '/admin', label: props.role === 'admin' ? 'Users & tokens' : 'API tokens', active: pathname === '/admin' },
  ]
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          pingscope
        </Link>
        <nav aria-label="Main">
          {nav.map((n) => (
            <Link key={n.to} to={n.to} aria-current={n.active ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-right">
          <span className={`live-pill live-${live}`} title="Live updates from the server">
            {live === 'open' ? 'live' : live === 'connecting' ? 'connecting…' : 'offline'}
          </span>
          <button
            type="button"
            className="ghost zone-toggle"
            aria-pressed={zone === 'utc'}
            title={zone === 'utc' ? 'Times in UTC: show local time' : 'Times in local time: show UTC'}
            onClick={() => setTimeZone(zone === 'utc' ? 'local' : 'utc')}
          >
            UTC
          </button>
          <button type="button" className="ghost" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          <span className="user">
            {props.username} <small>({props.role})</small>
          </span>
          <button type="button" onClick={props.onLogout}>
            Sign out
          </button>
        </div>
      </header>
      {/* Remounted when the time zone changes, so every time on the page is formatted again; what a
          view shows is kept in the URL, so it comes back the same. */}
      <main id="main" tabIndex={-1} key={zone}>
        {props.children}
      </main>
    </>
  )
}
