import type { Sql, Tx } from '../db/open.js'
import { intArrayLiteral } from '../db/arrays.js'

// Deleting targets' measurements: raw samples and their rows in the rollup tiers (whose source rows are
// gone after retention, so no refresh would ever remove them).
//
// Most of these rows sit in compressed chunks, and a DELETE that decompresses more than
// timescaledb.max_tuples_decompressed_per_dml_transaction rows (100,000 by default) fails. Measured with
// 1.5 M samples of one target (1 s × 5 echoes, 3.5 days, every chunk of every tier compressed;
// test/targets/delete.test.ts):
//   - TimescaleDB 2.28 server: 0.2–0.4 s. A filter on the segmentby column (target_id) and the chunk's own
//     time range drops whole compressed batches without decompressing them.
//   - embedded engine (2.23): 15–19 s, 4–5 s per day of that target. Its continuous-aggregate
//     invalidation is a row trigger, which rules the batch delete out: every row is decompressed first,
//     and with the default limit the delete fails.
// So the limit is lifted (0 = none) for these statements only, and the work is cut into one transaction
// per chunk: the embedded engine has one backend for every client, which a single 17 s transaction would
// hold the whole time. A chunk is the unit because compressed batches never cross one (a time-sliced delete
// would decompress the straddling batches for nothing), and the chunk is named by its time range
// through the hypertable: a DELETE on a compressed chunk's own table silently skips its compressed rows.

interface TierChunk {
  /** schema.name of the hypertable. */
  hypertable: string
  timeColumn: string
  /** Null for a hypertable without chunks. */
  rangeStart: Date | null
  rangeEnd: Date | null
}

/** Every chunk of samples and of the rollup tiers' materialization hypertables (combined and per site), oldest first. */
async function listChunks(sql: Sql): Promise<TierChunk[]> {
  return sql<TierChunk[]>`
    with tiers as (
      select current_schema()::name as schema_name, 'samples'::name as table_name, 0 as tier
      union all
      select materialization_hypertable_schema, materialization_hypertable_name,
             case when view_name like '%_1m' then 1 else 2 end
      from timescaledb_information.continuous_aggregates
      where view_schema = current_schema() and view_name in ('samples_1m', 'samples_1h', 'samples_site_1m', 'samples_site_1h')
    )
    select t.schema_name || '.' || t.table_name as hypertable, d.column_name as time_column, c.range_start, c.range_end
    from tiers t
    join timescaledb_information.dimensions d
      on d.hypertable_schema = t.schema_name and d.hypertable_name = t.table_name and d.dimension_number = 1
    left join timescaledb_information.chunks c
      on c.hypertable_schema = t.schema_name and c.hypertable_name = t.table_name
    order by t.tier, c.range_start`
}

/**
 * Deletes the targets' raw samples and their rows in every tier, at any size: chunk by chunk,
 * each in a short transaction of its own, then whatever is left (rows written meanwhile) in a last
 * transaction, in which `last` runs. Delete the target rows there: an interrupted run then leaves the
 * targets in place with part of their history, and running it again finishes the job.
 */
export async function deleteTargetData(sql: Sql, ids: number[], last?: (tx: Tx) => Promise<void>): Promise<void> {
  const list = intArrayLiteral(ids)
  const unlimited = (tx: Tx) => tx`set local timescaledb.max_tuples_decompressed_per_dml_transaction = 0`
  const chunks = ids.length > 0 ? await listChunks(sql) : []
  for (const { hypertable, timeColumn, rangeStart, rangeEnd } of chunks) {
    if (!rangeStart || !rangeEnd) continue
    await sql.begin(async (tx) => {
      await unlimited(tx)
      await tx`
        delete from ${tx(hypertable)}
        where target_id = any (${list}::int[]) and ${tx(timeColumn)} >= ${rangeStart} and ${tx(timeColumn)} < ${rangeEnd}`
    })
  }
  await sql.begin(async (tx) => {
    await unlimited(tx)
    for (const hypertable of new Set(chunks.map((c) => c.hypertable))) {
      await tx`delete from ${tx(hypertable)} where target_id = any (${list}::int[])`
    }
    await last?.(tx)
  })
}
