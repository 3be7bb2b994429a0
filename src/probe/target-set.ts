import type { Sql } from '../db/open.js'
import { type ProbeTarget, listProbeTargets, targetsFingerprint } from '../targets/targets.repo.js'

// The scheduler's view of the targets table: read it when it changed, and say what changed against the
// targets being probed. Any process (API, CLI) may change the table; the scheduler polls. In a fleet the
// rows are filtered by this probe's leases (src/probe/leases.ts) when they are applied, not when they
// are read, so a lease given away meanwhile is never probed again.

/** The rows when the table changed since `fingerprint` (or always, with `force`); null when it did not. */
export async function loadTargetsIfChanged(
  sql: Sql,
  fingerprint: string,
  force: boolean,
): Promise<{ fingerprint: string; rows: ProbeTarget[] } | null> {
  // The fingerprint is one cheap aggregate; the full list is read only when it moved.
  const fp = await targetsFingerprint(sql)
  if (fp === fingerprint && !force) return null
  return { fingerprint: fp, rows: await listProbeTargets(sql) }
}

export type TargetChange =
  | { kind: 'added'; row: ProbeTarget }
  | { kind: 'kept'; row: ProbeTarget; addressChanged: boolean; intervalChanged: boolean }

/**
 * The enabled rows this probe holds a lease on (all of them without `holds`: a probe alone) against the
 * running set, in row order: each is new or kept (possibly edited); running targets not among them
 * (paused, deleted, or leased to another probe) are removed.
 */
export function diffTargets(
  running: ReadonlyMap<number, ProbeTarget>,
  rows: ProbeTarget[],
  holds?: (id: number) => boolean,
): { changes: TargetChange[]; removed: number[] } {
  const changes: TargetChange[] = []
  const seen = new Set<number>()
  for (const row of rows) {
    if (!row.enabled || (holds && !holds(row.id))) continue
    seen.add(row.id)
    const old = running.get(row.id)
    if (!old) changes.push({ kind: 'added', row })
    else changes.push({ kind: 'kept', row, addressChanged: old.address !== row.address, intervalChanged: old.intervalS !== row.intervalS })
  }
  const removed = [...running.keys()].filter((id) => !seen.has(id))
  return { changes, removed }
}
