// Prints the histogram column lists of sql/migrations/00002_rollups.sql, generated from the bin edges in
// src/insights/histogram.ts. The migration holds the pasted, committed output: rerun this only when writing
// a new migration (applied migrations are never edited).
//   npx tsx scripts/gen-histogram-sql.ts
import { HISTOGRAM_BINS, sqlHistogramColumns } from '../src/insights/histogram.js'

const indent = (lines: string[]) => lines.map((l) => `  ${l},`).join('\n')

console.log(`-- samples_1m (from samples), ${HISTOGRAM_BINS} columns:`)
console.log(indent(sqlHistogramColumns('raw')))
console.log(`\n-- samples_1h (from samples_1m), ${HISTOGRAM_BINS} columns:`)
console.log(indent(sqlHistogramColumns('rollup')))
