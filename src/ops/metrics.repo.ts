import type { Queryable } from '../db/open.js'

export interface MetricsTarget {
  id: number
  address: string
  name: string | null
}

/** The targets /metrics labels its per-target series with: the enabled ones, in id order. */
export async function listMetricsTargets(sql: Queryable): Promise<MetricsTarget[]> {
  return sql<MetricsTarget[]>`select id, address, name from targets where enabled order by id`
}
