import type { Queryable } from '../db/open.js'
import { AppError } from '../errors.js'
import type { SiteOut } from './sites.schema.js'

// Sites (vantage points): the probes of one site share its targets (src/probe/leases.ts), and every
// sample says which site measured it (samples.site_id, a smallint for the sake of a billion rows; the
// name is what the API, CLI and dashboard use). 'default' (id 1) exists from the migration on; a
// probe's PROBE_SITE is added when it first starts.

export const DEFAULT_SITE_ID = 1
export const DEFAULT_SITE = 'default'

export interface SiteRow {
  id: number
  name: string
  createdAt: Date
  /** Probes of the site that heartbeat within their lease span (3 heartbeats). */
  liveProbes: number
  probes: number
}

/**
 * The site's id, adding the site if it is new. Looked up first: an insert takes a value of the smallint
 * sequence even when it conflicts, and agents ask at every heartbeat and batch.
 */
export async function ensureSite(sql: Queryable, name: string): Promise<number> {
  const [known] = await sql<{ id: number }[]>`select id from sites where name = ${name}`
  if (known) return known.id
  const [row] = await sql<{ id: number }[]>`
    with added as (insert into sites (name) values (${name}) on conflict (name) do nothing returning id)
    select id from added union all select id from sites where name = ${name}`
  return row!.id
}

/** `and site_id = …` for one site's samples or tier rows; nothing for all sites combined. */
export const siteFilter = (sql: Queryable, siteId: number | null) => (siteId === null ? sql`` : sql`and site_id = ${siteId}`)

export async function listSites(sql: Queryable): Promise<SiteRow[]> {
  return sql<SiteRow[]>`
    select s.id, s.name, s.created_at,
      (select count(*)::int from probes p where p.site = s.name and p.stopped_at is null
         and p.heartbeat_at > now() - 3 * p.heartbeat_ms * interval '1 millisecond') as live_probes,
      (select count(*)::int from probes p where p.site = s.name) as probes
    from sites s order by s.id`
}

/** The id of a site named in a request: an unknown name is the caller's mistake (422 naming `field`). */
export async function siteIdOf(sql: Queryable, name: string, field = 'site'): Promise<number> {
  const [row] = await sql<{ id: number }[]>`select id from sites where name = ${name}`
  if (!row) throw new AppError(422, [{ loc: ['query', field], msg: `no site named "${name}"` }])
  return row.id
}

/** Site id → name, for rows that carry the id. */
export async function siteNames(sql: Queryable): Promise<Map<number, string>> {
  const rows = await sql<{ id: number; name: string }[]>`select id, name from sites`
  return new Map(rows.map((r) => [r.id, r.name]))
}

/** Each site's enabled targets, the ones its probes lease (src/probe/probes.repo.ts, probedHere). */
export async function countSiteTargets(sql: Queryable): Promise<Map<string, number>> {
  const rows = await sql<{ name: string; targets: number }[]>`
    select s.name, count(t.id)::int as targets
    from sites s left join targets t on t.enabled and (t.sites is null or s.name = any (t.sites))
    group by s.name`
  return new Map(rows.map((r) => [r.name, r.targets]))
}

/** GET /sites and `pingscope sites`: every site with its probes and the targets it probes. */
export async function listSiteSummaries(sql: Queryable): Promise<SiteOut[]> {
  const sites = await listSites(sql)
  const targets = await countSiteTargets(sql)
  return sites.map((s) => ({
    name: s.name,
    created_at: s.createdAt.toISOString(),
    probes: s.probes,
    live_probes: s.liveProbes,
    targets: targets.get(s.name) ?? 0,
  }))
}
