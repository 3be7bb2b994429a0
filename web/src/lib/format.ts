// Number and time formatting shared by every view. Latencies come in ms (floats): loopback RTTs are
// tens of microseconds, so small values are shown in µs.

import { type TimeZoneChoice, getTimeZone, intlTimeZone } from './time-zone'

const DASH = '–'

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH
  if (ms < 1) return `${Math.round(ms * 1000)} µs`
  if (ms < 10) return `${ms.toFixed(2)} ms`
  if (ms < 100) return `${ms.toFixed(1)} ms`
  return `${Math.round(ms)} ms`
}

export function formatPercent(p: number | null | undefined, digits = 1): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return DASH
  if (p > 0 && p < 10 ** -digits) return `<${10 ** -digits} %`
  return `${p.toFixed(digits)} %`
}

export const formatNumber = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n) ? DASH : n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits })

// Times: one 24-hour format everywhere (YYYY-MM-DD HH:mm:ss), always with the zone it is in, in the
// browser's zone or UTC (lib/time-zone.ts). Built from formatToParts, so the browser's locale cannot
// turn it into a 12-hour clock or reorder the date.

export interface TimeParts {
  year: string
  month: string
  day: string
  hour: string
  minute: string
  second: string
  zone: string
}

const partFormats = new Map<string, Intl.DateTimeFormat>()

function partsFormat(zone: TimeZoneChoice): Intl.DateTimeFormat {
  let f = partFormats.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: intlTimeZone(zone),
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
    partFormats.set(zone, f)
  }
  return f
}

/** A time's parts in the chosen zone (default: the current choice), zero-padded, 24-hour. */
export function timeParts(d: Date, zone: TimeZoneChoice = getTimeZone()): TimeParts {
  const p: Record<string, string> = {}
  for (const x of partsFormat(zone).formatToParts(d)) p[x.type] = x.value
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second!, zone: p.timeZoneName ?? '' }
}

/** The zone's short name as the time formats show it: "UTC", "EST", "GMT+1". */
export const zoneName = (zone: TimeZoneChoice = getTimeZone(), at = new Date()): string => timeParts(at, zone).zone

const fullTime = (p: TimeParts) => `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.zone}`

/** Today (in the chosen zone) as the time alone, else with the date: "13:45:07 UTC". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return DASH
  const d = new Date(iso)
  const p = timeParts(d)
  const today = timeParts(new Date())
  const sameDay = p.year === today.year && p.month === today.month && p.day === today.day
  return sameDay ? `${p.hour}:${p.minute}:${p.second} ${p.zone}` : fullTime(p)
}

/** "2026-12-02 13:45:07 UTC" */
export const formatDateTime = (iso: string | Date | null | undefined): string => (iso ? fullTime(timeParts(new Date(iso))) : DASH)

export function formatDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return DASH
  if (s < 60) return `${Math.round(s)} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
  return `${Math.floor(s / 86_400)} d ${Math.round((s % 86_400) / 3600)} h`
}

export function formatInterval(s: number): string {
  return s < 60 ? `${s} s` : s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`
}
