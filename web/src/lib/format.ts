// Number and time formatting shared by every view. Latencies come in ms (floats): loopback RTTs are
// tens of microseconds, so small values are shown in µs.

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

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return DASH
  const d = new Date(iso)
  return Date.now() - d.getTime() < 20 * 3600_000 && d.getDate() === new Date().getDate() ? timeOnly.format(d) : dateTime.format(d)
}

export const formatDateTime = (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : DASH)

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
