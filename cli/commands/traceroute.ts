import type { Command } from 'commander'
import { requireAdminRole } from '../../src/auth/auth.service.js'
import { createTracerouteRunner } from '../../src/traceroute/runner.js'
import { type TracerouteOut, tracerouteHistoryQuery, tracerouteRunQuery } from '../../src/traceroute/traceroute.schema.js'
import { createTracerouteService, tracerouteJson } from '../../src/traceroute/traceroute.service.js'
import { type Colours, formatTable, ms, shortTime } from '../output.js'
import { num, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseTargetId } from './target.js'

// `pingscope traceroute`: runs and stores a traceroute through the same service as
// POST /targets/:id/traceroute (parse, store, path_change event), or lists the stored ones.

function formatRun(r: TracerouteOut, c: Colours): string {
  const head =
    `traceroute to ${r.target_ip}: ${r.hop_count} hop${r.hop_count === 1 ? '' : 's'}, ` +
    `${r.reached ? c.green('reached') : c.red('not reached')}, ${r.duration_ms === null ? '?' : Math.round(r.duration_ms)} ms` +
    `${r.path_changed ? c.yellow(' (path changed)') : ''}`
  const hops = formatTable(
    r.hops,
    [
      { header: 'HOP', value: (h) => h.hop, align: 'right' },
      { header: 'ADDRESS', value: (h) => (h.is_timeout ? '*' : h.ip) },
      { header: 'RTT', value: (h) => ms(h.rtt_ms), align: 'right' },
    ],
    c,
  )
  return `${head}\n${hops}`
}

function formatHistory(rows: TracerouteOut[], c: Colours): string {
  if (rows.length === 0) return 'No traceroutes.'
  return formatTable(
    rows,
    [
      { header: 'ID', value: (r) => r.id, align: 'right' },
      { header: 'STARTED', value: (r) => shortTime(r.started_at) },
      { header: 'HOPS', value: (r) => r.hop_count, align: 'right' },
      { header: 'REACHED', value: (r) => (r.reached ? 'yes' : 'no'), style: (t, r) => (r.reached ? t : c.red(t)) },
      { header: 'CHANGED', value: (r) => (r.path_changed ? 'yes' : ''), style: (t) => c.yellow(t) },
      { header: 'PATH', value: (r) => r.hops.map((h) => h.ip ?? '*').join(' → ') },
    ],
    c,
  )
}

export function registerTraceroute(program: Command, deps: CliDeps) {
  program
    .command('traceroute')
    .argument('<id>', 'target id')
    .description('run traceroute to a target now and store it (flags a path change), or list stored runs')
    .option('--max-hops <n>', 'maximum hops, 1–64', '20')
    .option('--timeout <s>', 'seconds for the whole run, 1–120 (the process is killed after it)', '25')
    .option('--history', 'list the stored traceroutes instead of running one')
    .option('--limit <n>', 'with --history: how many (1–100)', '20')
    .addHelpText(
      'after',
      '\nRunning one needs the admin role and the traceroute binary (TRACEROUTE_BIN).\n\nExamples:\n  pingscope traceroute 3\n  pingscope traceroute 3 --max-hops 10 --timeout 5 --json\n  pingscope traceroute 3 --history',
    )
    .action(
      action(deps, 'read', async (s, id: string, o: { maxHops: string; timeout: string; history?: boolean; limit: string }) => {
        const targetId = parseTargetId(id)
        const service = createTracerouteService({
          sql: s.sql,
          runner: createTracerouteRunner({ bin: s.config.traceroute.bin }),
          concurrency: s.config.traceroute.concurrency,
          log: s.log,
        })
        if (o.history) {
          const q = parseWith(tracerouteHistoryQuery, { limit: num(o.limit) }, {})
          const docs = (await service.history(targetId, q.limit)).map(tracerouteJson)
          s.out.emit(docs, (rows) => formatHistory(rows, s.out.c), (rows) => rows.map((r) => r.id).join('\n'))
          return
        }
        requireAdminRole(s.user, '`pingscope traceroute`')
        const q = parseWith(tracerouteRunQuery, { max_hops: num(o.maxHops), timeout: num(o.timeout) }, { max_hops: '--max-hops', timeout: '--timeout' })
        try {
          const doc = tracerouteJson(await service.run(targetId, { maxHops: q.max_hops, timeoutS: q.timeout }, s.user.username))
          s.out.emit(doc, (r) => formatRun(r, s.out.c), (r) => String(r.id))
        } finally {
          service.close()
        }
      }),
    )
}
