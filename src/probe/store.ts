import type { Sql } from '../db/open.js'
import { closeOutage, listOpenOutages, openOutage } from '../outages/outages.repo.js'
import type { ProbeTarget } from '../targets/targets.repo.js'
import type { OutageClosed, OutageOpened } from './outage-tracker.js'
import { loadTargetsIfChanged } from './target-set.js'
import type { Sample } from './writer.js'

// What the scheduler reads and writes besides ICMP, behind one small interface, so that the same engine
// runs on the database (`pingscope serve`/`probe`: createDatabaseStore) and without it (the remote
// agent, src/agent/agent.ts: its targets come from its heartbeats and its writes go to its disk buffer).

export interface ProbeStore {
  /** The targets when they changed since `fingerprint` (always with `force`); null when they did not. */
  loadTargetsIfChanged(fingerprint: string, force: boolean): Promise<{ fingerprint: string; rows: ProbeTarget[] } | null>
  /** The open outages of this probe's site: the outage state machine resumes them. */
  listOpenOutages(): Promise<{ targetId: number; lostRounds: number }[]>
  /** Writes one outage transition; throws when it cannot now (the caller retries, in order). */
  openOutage(o: OutageOpened): Promise<void>
  closeOutage(c: OutageClosed): Promise<void>
}

/** Where a round's samples go: the batched database writer (writer.ts), or the agent's batcher. */
export interface SampleSink {
  add(s: Sample): void
}

/** The store of a probe process on the database, for its site ('default' unless PROBE_SITE says otherwise). */
export function createDatabaseStore(sql: Sql, site?: string): ProbeStore {
  const at = site ? { site } : {}
  return {
    loadTargetsIfChanged: (fingerprint, force) => loadTargetsIfChanged(sql, fingerprint, force),
    listOpenOutages: () => listOpenOutages(sql, site),
    openOutage: async (o) => void (await openOutage(sql, { ...o, ...at })),
    closeOutage: (c) => closeOutage(sql, { ...c, ...at }),
  }
}
