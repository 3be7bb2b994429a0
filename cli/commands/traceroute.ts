import type { Command } from 'commander'
import { requireAdminRole } from '../../src/auth/auth.service.js'
import { createTracerouteRunner } from '../../src/traceroute/runner.js'
import { pathHistoryJson, removeSchedule, setSchedule } from '../../src/traceroute/path.service.js'
import {
  type PathHistoryOut,
  type TracerouteOut,
  pathHistoryQuery,
  scheduleBody,
  tracerouteHistoryQuery,
  tracerouteRunQuery,
} from '../../src/traceroute/traceroute.schema.js'
import { createTracerouteService, tracerouteJson } from '../../src/traceroute/traceroute.service.js'
import { type Colours, UsageError, formatTable, ms, shortTime } from '../output.js'
import { num, parseDuration, parseSeconds, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseTargetId } from './target.js'

// `pingscope traceroute`: runs and stores a traceroute through the same service as
// POST /targets/:id/traceroute (parse, store, path_change event), lists the stored ones, sets or removes
// the target's schedule (PUT/DELETE /targets/:id/traceroute-schedule) and shows its path history.

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

function formatPaths(doc: PathHistoryOut, c: Colours): string {
  if (doc.runs.length === 0) return `No traceroutes between ${shortTime(doc.from)} and ${shortTime(doc.to)}.`
  const paths = formatTable(
    doc.paths.map((p, i) => ({ ...p, n: i + 1 })),
    [
      { header: 'PATH', value: (p) => p.n, align: 'right' },
      { header: 'FIRST SEEN', value: (p) => shortTime(p.first_seen) },
      { header: 'LAST SEEN', value: (p) => shortTime(p.last_seen) },
      { header: 'RUNS', value: (p) => p.runs, align: 'right' },
      { header: 'HOPS', value: (p) => p.hops.map((ip) => ip ?? '*').join(' → ') },
    ],
    c,
  )
  const latest = doc.runs.at(-1)!
  const hops = formatTable(
    latest.hops,
    [
      { header: 'HOP', value: (h) => h.hop, align: 'right' },
      { header: 'ADDRESS', value: (h) => h.ip ?? '*' },
      { header: 'LOSS', value: (h) => `${h.loss_pct} %`, align: 'right', style: (t, h) => (h.loss_pct > 0 ? c.yellow(t) : t) },
      { header: 'AVG RTT', value: (h) => ms(h.rtt_avg_ms), align: 'right' },
      { header: 'PROBES', value: (h) => h.sent, align: 'right' },
    ],
    c,
  )
  const changes = doc.runs.filter((r) => r.path_changed).length
  return `${doc.runs.length} run${doc.runs.length === 1 ? '' : 's'}, ${doc.paths.length} path${doc.paths.length === 1 ? '' : 's'}, ${changes} change${changes === 1 ? '' : 's'}\n${paths}\n\nlatest run (${shortTime(latest.started_at)}):\n${hops}`
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

interface TracerouteFlags {
  maxHops: string
  timeout: string
  history?: boolean
  limit: string
  schedule?: string
  queries: string
  unschedule?: boolean
  paths?: boolean
  since: string
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
    .option('--schedule <every>', 'run it on a schedule instead, e.g. 5m (60 s – 1 d): path history with per-hop loss')
    .option('--queries <n>', 'with --schedule: probes per hop, 1–10', '3')
    .option('--unschedule', 'stop the scheduled runs (the stored ones stay)')
    .option('--paths', 'show the path history: the distinct paths seen, and the latest run hop by hop')
    .option('--since <duration>', 'with --paths: how far back, e.g. 24h, 7d', '24h')
    .addHelpText(
      'after',
      '\nRunning one, and changing a schedule, need the admin role; runs need the traceroute binary (TRACEROUTE_BIN).\n\nExamples:\n  pingscope traceroute 3\n  pingscope traceroute 3 --max-hops 10 --timeout 5 --json\n  pingscope traceroute 3 --history\n  pingscope traceroute 3 --schedule 5m --max-hops 30\n  pingscope traceroute 3 --paths --since 7d',
    )
    .action(
      action(deps, 'read', async (s, id: string, o: TracerouteFlags) => {
        const targetId = parseTargetId(id)
        const modes = [o.history, o.schedule !== undefined, o.unschedule, o.paths].filter(Boolean).length
        if (modes > 1) throw new UsageError('--history, --schedule, --unschedule and --paths: give one')
        if (o.schedule !== undefined) {
          requireAdminRole(s.user, '`pingscope traceroute --schedule`')
          const body = parseWith(
            scheduleBody,
            { interval_s: parseSeconds(o.schedule, '--schedule'), max_hops: num(o.maxHops), queries: num(o.queries) },
            { interval_s: '--schedule', max_hops: '--max-hops', queries: '--queries' },
          )
          const doc = await setSchedule(s.sql, targetId, body, s.user.username)
          s.out.emit(doc, (d) => s.out.c.green(`Traceroute to target ${d.target_id} every ${d.interval_s} s (${d.queries} probes per hop, ${d.max_hops} hops max); first run within seconds`), (d) => String(d.target_id))
          return
        }
        if (o.unschedule) {
          requireAdminRole(s.user, '`pingscope traceroute --unschedule`')
          await removeSchedule(s.sql, targetId)
          s.out.emit({ message: 'Traceroute schedule removed', id: targetId }, (d) => s.out.c.green(`Removed the traceroute schedule of target ${d.id}`))
          return
        }
        if (o.paths) {
          const now = new Date()
          const from = new Date(now.getTime() - parseDuration(o.since, '--since') * 60_000).toISOString()
          const q = parseWith(pathHistoryQuery, { from, to: now.toISOString() }, { from: '--since' })
          const doc = await pathHistoryJson(s.sql, targetId, q, now)
          s.out.emit(doc, (d) => formatPaths(d, s.out.c), (d) => d.runs.map((r) => r.id).join('\n'))
          return
        }
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
