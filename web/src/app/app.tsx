import { useQueryClient } from '@tanstack/react-query'
import { Suspense, useEffect, useState } from 'react'
import { ErrorMessage } from '../components/field'
import { Layout } from '../components/layout'
import { useMe } from '../features/auth/api/auth'
import { LoginPage } from '../features/auth/components/login-page'
import { FleetPage } from '../features/fleet/components/fleet-page'
import { LiveProvider } from '../lib/live'
import { Link, navigate, useLocation } from '../lib/router'
import { endSession, useSession } from '../lib/session'
import { lazyPage } from './lazy-page'
import { prefetchFleet } from './prefetch'

// Only the fleet and the login are in the first chunk: a cold load of the fleet parses no code of the
// other pages (the target page's uPlot chart is most of it). Each of these loads when first opened.
const TargetPage = lazyPage(() => import('../features/targets/components/target-page').then((m) => m.TargetPage))
const AddTargetsPage = lazyPage(() => import('../features/targets/components/add-targets-page').then((m) => m.AddTargetsPage))
const AdminPage = lazyPage(() => import('../features/admin/components/admin-page').then((m) => m.AdminPage))
const IncidentsPage = lazyPage(() => import('../features/incidents/components/incidents-page').then((m) => m.IncidentsPage))
const IncidentPage = lazyPage(() => import('../features/incidents/components/incident-page').then((m) => m.IncidentPage))
const AlertsPage = lazyPage(() => import('../features/alerts/components/alerts-page').then((m) => m.AlertsPage))
const EventsPage = lazyPage(() => import('../features/events/components/events-page').then((m) => m.EventsPage))
const ComparePage = lazyPage(() => import('../features/compare/components/compare-page').then((m) => m.ComparePage))
const PublicStatusPage = lazyPage(() => import('../features/status-page/components/public-status-page').then((m) => m.PublicStatusPage))

const loading = <p className="muted">Loading…</p>

// Routes: /, /target/:id, /add, /admin, /incidents, /incidents/:id, /alerts, /events, /compare, /login,
// /status/:tag (public). Their first segments are listed in src/web/web.plugin.ts (SPA_ROOTS) so that the
// server answers a reload of any of them with the app.

function SignedIn({ session }: { session: string }) {
  const queryClient = useQueryClient()
  const { pathname } = useLocation()
  // Before useMe, so that the fleet's requests go out with the session check, not after it.
  const [fleetFirst] = useState(() => pathname === '/' || pathname === '/login')
  useEffect(() => {
    if (fleetFirst) prefetchFleet(queryClient)
  }, [fleetFirst, queryClient])
  const me = useMe()
  useEffect(() => {
    if (pathname === '/login') navigate('/', { replace: true })
  }, [pathname])

  if (!me.data) return <main className="page">{me.error ? <ErrorMessage error={me.error} /> : loading}</main>
  const isAdmin = me.data.role === 'admin'
  const target = /^\/target\/(\d+)\/?$/.exec(pathname)
  const incident = /^\/incidents\/(\d+)\/?$/.exec(pathname)
  let page
  if (pathname === '/' || pathname === '/login') page = <FleetPage />
  else if (target) page = <TargetPage key={target[1]} id={Number(target[1])} isAdmin={isAdmin} />
  else if (pathname === '/add') page = <AddTargetsPage isAdmin={isAdmin} />
  else if (pathname === '/admin') page = <AdminPage me={me.data} />
  else if (pathname === '/incidents') page = <IncidentsPage />
  else if (incident) page = <IncidentPage key={incident[1]} id={Number(incident[1])} isAdmin={isAdmin} />
  else if (pathname === '/alerts') page = <AlertsPage isAdmin={isAdmin} />
  else if (pathname === '/events') page = <EventsPage />
  else if (pathname === '/compare') page = <ComparePage />
  else
    page = (
      <section className="page">
        <h1>Page not found</h1>
        <Link to="/">Back to the fleet</Link>
      </section>
    )
  // The stream opens once the token is known to be good: a refused EventSource only logs a console error.
  return (
    <LiveProvider token={session}>
      <Layout username={me.data.username} role={me.data.role} onLogout={() => endSession('You have signed out.')}>
        <Suspense fallback={loading}>{page}</Suspense>
      </Layout>
    </LiveProvider>
  )
}

/** The tag of a public status page path (/status/{tag}), or null. */
function statusPageTag(pathname: string): string | null {
  const m = /^\/status\/([^/]+)\/?$/.exec(pathname)
  try {
    return m ? decodeURIComponent(m[1]!) : null
  } catch {
    return m![1]!
  }
}

export function App() {
  const session = useSession()
  const queryClient = useQueryClient()
  const statusTag = statusPageTag(useLocation().pathname)
  useEffect(() => {
    // Nothing of one user's session may show in the next one (a public page shows nobody's).
    if (!session && statusTag === null) queryClient.clear()
  }, [session, statusTag, queryClient])
  // Public status pages need no session: anyone reads them, signed in or not, without the dashboard around.
  if (statusTag !== null)
    return (
      <Suspense fallback={<main className="status-page">{loading}</main>}>
        <PublicStatusPage tag={statusTag} />
      </Suspense>
    )
  if (!session) return <LoginPage />
  return <SignedIn session={session.token} />
}
