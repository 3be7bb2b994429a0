import { formatDateTime, formatMs, formatPercent } from '../../lib/format'
import type { PathHistoryOut, PathRun } from './api/paths'

// Pure helpers of the path history view: a hop's loss as a colour, a letter per distinct path, the
// text of a cell's tooltip.

/** Loss 0 % green … 50 % yellow … 100 % red, continuous: with 3 probes per hop 33 % and 67 % differ. */
export function hopLossColor(lossPct: number): string {
  const p = Math.min(100, Math.max(0, lossPct))
  return `hsl(${Math.round(120 * (1 - p / 100))} 72% 42%)`
}

/** Paths are named A, B, C … in the order the window first saw them (the API's `paths` order). */
export const pathLetter = (index: number): string =>
  index < 26 ? String.fromCharCode(65 + index) : `${String.fromCharCode(65 + Math.floor(index / 26) - 1)}${String.fromCharCode(65 + (index % 26))}`

/** path_hash → its index in `paths` (a run without a hash has none: it reached no hop). */
export function pathIndex(history: PathHistoryOut): Map<string | null, number> {
  return new Map(history.paths.map((p, i) => [p.path_hash, i]))
}

/** The deepest hop of any run in the window: the number of rows. */
export const hopRows = (runs: PathRun[]): number => runs.reduce((m, r) => Math.max(m, r.hop_count, ...r.hops.map((h) => h.hop)), 0)

export function cellTitle(run: PathRun, hop: PathRun['hops'][number]): string {
  const addr = hop.ip ?? 'no answer (*)'
  return `Hop ${hop.hop}: ${addr}\nloss ${formatPercent(hop.loss_pct, 0)} of ${hop.sent}, mean RTT ${formatMs(hop.rtt_avg_ms)}\n${formatDateTime(run.started_at)}`
}

export function runLabel(run: PathRun, letter: string | undefined): string {
  return `${formatDateTime(run.started_at)} · path ${letter ?? '?'} · ${run.hop_count} hops${run.reached ? '' : ', not reached'}${run.path_changed ? ' · changed' : ''}`
}
