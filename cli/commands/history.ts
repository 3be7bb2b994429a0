import type { Command } from 'commander'
import { EVENT_TYPES, type TimelineEventOut, timelineQuery } from '../../src/events/events.schema.js'
import { getTimeline } from '../../src/events/events.service.js'
import { type InsightsOut, type OutageOut, insightsQuery, outagesQuery } from '../../src/insights/insights.schema.js'
import { getInsights, getOutages } from '../../src/insights/insights.service.js'
import { MAX_WINDOW_MINUTES } from '../../src/insights/insights.tiers.js'
import { getTargetLogs } from '../../src/samples/samples.service.js'
import { requireTarget } from '../../src/targets/targets.service.js'
import { logsQuery } from '../../src/samples/samples.schema.js'
import { type Colours, UsageError, formatFields, formatTable, ms, shortTime } from '../output.js'
import { asUsageError, num, parseDuration, parseWith } from '../parse.js'
import { type CliDeps, action } from '../session.js'
import { parseTargetId } from './target.js'

// A target's history: `logs`, `events`, `outages` and `insights`, with the API's queries and JSON.

const BARS = '▁▂▃▄▅▆▇█'

/** One character per value, scaled between the smallest and largest; `·` for a gap. */
export function sparkline(values: (number | null)[], width = 60): string {
  // Fold into at most `width` columns, averaging the values of each.
  const step = Math.max(1, Math.ceil(values.length / width))
  const cols: (number | null)[] = []
  for (let i = 0; i < values.length; i += step) {
    const group = values.slice(i, i + step).filter((v): v is number => v !== null)
    cols.push(group.length ? group.reduce((a, b) => a + b, 0) / group.length : null)
  }
  const present = cols.filter((v): v is number => v !== null)
  if (present.length === 0) return ''
  const lo = Math.min(...present)
  const hi = Math.max(...present)
  return cols.map((v) => (v === null ? '·' : BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))])).join('')
}

/** A timeline entry's target: its name and address, marked when it was deleted since. */
const targetLabel = (e: TimelineEventOut) => {
  if (e.target_id === null) return null
  const who = e.target_name ? `${e.target_name} (${e.target_address ?? '?'})` : (e.target_address ?? `#${e.target_id}`)
  return e.target_exists ? who : `${who}, deleted`
}

const pct = (v: number | null) => (v === null ? null : `${Number(v.toFixed(3))} %`)
const seconds = (s: number) => (s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`)

function formatOutages(rows: OutageOut[], c: Colours): string {
  return formatTable(
    rows,
    [
      { header: 'ID', value: (o) => o.id, align: 'right' },
      { header: 'STARTED', value: (o) => shortTime(o.started_at) },
      { header: 'ENDED', value: (o) => (o.ongoing ? 'ongoing' : shortTime(o.ended_at)), style: (t, o) => (o.ongoing ? c.red(t) : t) },
      { header: 'DURATION', value: (o) => seconds(o.duration_s), align: 'right' },
      { header: 'LOST ROUNDS', value: (o) => o.lost_rounds, align: 'right' },
      { header: 'CAUSE', value: (o) => o.cause },
      ...(rows.some((o) => o.site !== 'default') ? [{ header: 'SITE', value: (o: OutageOut) => o.site }] : []),
    ],
    c,
  )
}

/** Each site's figures, one line per site: shown when more than one site probes the target. */
function formatSites(i: InsightsOut, c: Colours): string {
  return formatTable(
    i.sites,
    [
      { header: 'SITE', value: (r) => r.site },
      { header: 'ECHOES', value: (r) => r.sample_count, align: 'right' },
      { header: 'LOSS', value: (r) => pct(r.loss_percent), align: 'right' },
      { header: 'P50', value: (r) => ms(r.latency_p50_ms), align: 'right' },
      { header: 'P95', value: (r) => ms(r.latency_p95_ms), align: 'right' },
      { header: 'P99', value: (r) => ms(r.latency_p99_ms), align: 'right' },
      { header: 'JITTER', value: (r) => ms(r.jitter_ms), align: 'right' },
      { header: 'OUTAGES', value: (r) => r.outages.count, align: 'right' },
    ],
    c,
  )
}

function formatInsights(i: InsightsOut, c: Colours): string {
  const lost = i.loss_count
  const fields: [string, string | number | null][] = [
    ['target', `${i.target_id} ${i.target_ip}`],
    ...(i.site === null ? [] : [['site', i.site] as [string, string]]),
    ['window', `${shortTime(i.window_start)} → ${shortTime(i.window_end)} (${seconds(i.window_minutes * 60)}, ${i.tier} tier, ${i.bucket_seconds} s buckets)`],
    ['echoes', `${i.sample_count} sent, ${lost} lost${i.loss_percent === null ? '' : ` (${pct(i.loss_percent)})`}`],
    ['uptime', pct(i.uptime_percent)],
    ['latency', i.latency_avg_ms === null ? null : `avg ${ms(i.latency_avg_ms)} · min ${ms(i.latency_min_ms)} · max ${ms(i.latency_max_ms)}`],
    [
      'percentiles',
      i.latency_p50_ms === null
        ? null
        : `p50 ${ms(i.latency_p50_ms)} · p95 ${ms(i.latency_p95_ms)} · p99 ${ms(i.latency_p99_ms)}${i.percentile_max_relative_error ? ` (±${Math.round(i.percentile_max_relative_error * 100)} %)` : ''}`,
    ],
    ['jitter', ms(i.jitter_ms)],
    ['MOS', i.mos === null ? null : i.mos.toFixed(2)],
    ['hops', i.hop_count === null ? null : `${i.hop_count}${i.hop_count_min !== i.hop_count_max ? ` (${i.hop_count_min}–${i.hop_count_max})` : ''}`],
    ['outages', `${i.outages.count}${i.outages.count ? `, ${seconds(i.outages.downtime_seconds)} down` : ''}`],
    ['latency/time', sparkline(i.timeline.map((b) => b.avg_latency_ms)) || null],
  ]
  const out = [formatFields(fields, c)]
  if (i.sites.length > 1) out.push('', formatSites(i, c))
  if (i.outages.items.length) out.push('', formatOutages(i.outages.items, c))
  return out.join('\n')
}

export function registerHistory(program: Command, deps: CliDeps) {
  program
    .command('logs')
    .argument('<id>', 'target id')
    .description("a target's newest raw samples, oldest first")
    .option('--limit <n>', 'how many (1–1000)', '100')
    .option('--site <name>', "only this site's samples (default: every site's)")
    .addHelpText('after', '\nExamples:\n  pingscope logs 3\n  pingscope logs 3 --site eu-west\n  pingscope logs 3 --limit 1000 --json | jq \'[.[] | select(.packet_loss)] | length\'')
    .action(
      action(deps, 'read', async (s, id: string, o: { limit: string; site?: string }) => {
        const targetId = parseTargetId(id)
        const q = parseWith(logsQuery, { limit: num(o.limit), site: o.site }, { site: '--site' })
        const docs = await getTargetLogs(s.sql, targetId, q.limit, q.site).catch((err: unknown) => {
          throw asUsageError(err, { site: o.site }, { site: '--site' })
        })
        s.out.emit(docs, (rows) =>
          rows.length === 0
            ? 'No samples.'
            : formatTable(
                rows,
                [
                  { header: 'TIME', value: (r) => r.time },
                  { header: 'SEQ', value: (r) => r.seq, align: 'right' },
                  { header: 'LATENCY', value: (r) => ms(r.latency_ms), align: 'right' },
                  { header: 'TTL', value: (r) => r.ttl, align: 'right' },
                  { header: 'HOPS', value: (r) => r.hops, align: 'right' },
                  { header: 'STATUS', value: (r) => r.status, style: (t, r) => (r.packet_loss ? s.out.c.red(t) : t) },
                  ...(rows.some((r) => r.site !== 'default') ? [{ header: 'SITE', value: (r: (typeof rows)[number]) => r.site }] : []),
                ],
                s.out.c,
              ),
        )
      }),
    )

  program
    .command('events')
    .argument('[id]', 'target id (default: every target, the global timeline)')
    .description("events, newest first: a target's, or every target's (changes with who made them, outages, path changes, alert incidents)")
    .option('--limit <n>', 'how many (1–1000)', '100')
    .option('--type <types>', `only these types, comma-separated: ${EVENT_TYPES.join(', ')}`)
    .option('--tag <tag>', 'only the targets that carry this tag')
    .option('--since <duration>', 'only the last 15m, 24h, 7d …')
    .option('--before-id <id>', 'the next page: the id of the last event shown')
    .addHelpText(
      'after',
      '\nExamples:\n  pingscope events\n  pingscope events --type outage_open,incident_open --since 24h\n  pingscope events 3\n  pingscope events 3 --json | jq -r \'.[] | "\\(.created_at) \\(.actor) \\(.message)"\'',
    )
    .action(
      action(deps, 'read', async (s, id: string | undefined, o: { limit: string; type?: string; tag?: string; since?: string; beforeId?: string }) => {
        const flags = { limit: '--limit', type: '--type', tag: '--tag', before_id: '--before-id', target_id: '<id>' }
        const from = o.since === undefined ? undefined : new Date(Date.now() - parseDuration(o.since, '--since') * 60_000).toISOString()
        const input = { limit: num(o.limit), type: o.type, tag: o.tag, before_id: num(o.beforeId), target_id: id === undefined ? undefined : parseTargetId(id), from }
        const q = parseWith(timelineQuery, input, flags)
        // One target's list answers "not found" for an unknown target, as `logs` and `outages` do.
        if (q.target_id !== undefined) await requireTarget(s.sql, q.target_id)
        const docs = await getTimeline(s.sql, q).catch((err: unknown) => {
          throw asUsageError(err, input, flags)
        })
        s.out.emit(docs, (rows) =>
          rows.length === 0
            ? 'No events.'
            : formatTable(
                rows,
                [
                  { header: 'ID', value: (e) => e.id, align: 'right' },
                  { header: 'TIME', value: (e) => shortTime(e.created_at) },
                  ...(q.target_id === undefined ? [{ header: 'TARGET', value: (e: TimelineEventOut) => targetLabel(e) }] : []),
                  { header: 'TYPE', value: (e) => e.event_type, style: (t, e) => (e.event_type === 'outage_open' || e.event_type === 'incident_open' ? s.out.c.red(t) : t) },
                  { header: 'BY', value: (e) => e.actor },
                  { header: 'MESSAGE', value: (e) => e.message },
                ],
                s.out.c,
              ),
        )
      }),
    )

  program
    .command('outages')
    .argument('<id>', 'target id')
    .description("a target's outages, newest first")
    .option('--limit <n>', 'how many (1–1000)', '100')
    .option('--site <name>', 'only the outages this site saw (default: every site\'s)')
    .addHelpText('after', '\nExamples:\n  pingscope outages 3\n  pingscope outages 3 --json | jq \'map(.duration_s) | add\'')
    .action(
      action(deps, 'read', async (s, id: string, o: { limit: string; site?: string }) => {
        const targetId = parseTargetId(id)
        const q = parseWith(outagesQuery, { limit: num(o.limit), site: o.site }, { site: '--site' })
        const docs = await getOutages(s.sql, targetId, q.limit, undefined, q.site ?? null).catch((err: unknown) => {
          throw asUsageError(err, { site: o.site }, { site: '--site' })
        })
        s.out.emit(docs, (rows) => (rows.length === 0 ? 'No outages.' : formatOutages(rows, s.out.c)))
      }),
    )

  program
    .command('insights')
    .argument('<id>', 'target id')
    .description('latency, loss, jitter, MOS, hops and outages over a window (the numbers the API and dashboard show)')
    .option('--window <duration>', 'window ending now (or at --to): 15m, 1h, 24h, 30d, 1y …', '1h')
    .option('--from <time>', 'window start, ISO 8601 with a zone (instead of --window)')
    .option('--to <time>', 'window end, ISO 8601 with a zone (default now)')
    .option('--bucket-seconds <s>', 'timeline bucket size (default: chosen from the window)')
    .option('--site <name>', 'only what this site measured (default: all sites combined, with a line per site)')
    .addHelpText(
      'after',
      '\nExamples:\n  pingscope insights 3\n  pingscope insights 3 --window 30d\n  pingscope insights 3 --from 2025-01-01T00:00:00Z --to 2025-01-02T00:00:00Z --json',
    )
    .action(
      action(deps, 'read', async (s, id: string, o: { window: string; from?: string; to?: string; bucketSeconds?: string; site?: string }, cmd: Command) => {
        const targetId = parseTargetId(id)
        // --window has a default; it only conflicts with --from when typed.
        const windowGiven = cmd.getOptionValueSource('window') === 'cli'
        const windowMinutes = o.from && !windowGiven ? undefined : parseDuration(o.window, '--window')
        if (windowMinutes !== undefined && windowMinutes > MAX_WINDOW_MINUTES) throw new UsageError(`--window: must be at most 5 years (got "${o.window}")`)
        const input = {
          window_minutes: windowMinutes,
          from: o.from,
          to: o.to,
          bucket_seconds: num(o.bucketSeconds),
          site: o.site,
        }
        const q = parseWith(insightsQuery, input, { window_minutes: '--window', bucket_seconds: '--bucket-seconds', site: '--site' })
        const doc = await getInsights(s.sql, targetId, q, { retention: s.config.retention }).catch((err: unknown) => {
          throw asUsageError(err, { site: o.site }, { site: '--site' })
        })
        s.out.emit(doc, (i) => formatInsights(i, s.out.c))
      }),
    )
}
