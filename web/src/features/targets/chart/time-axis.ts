import uPlot from 'uplot'
import { formatDateTime, timeParts, zoneName } from '../../../lib/format'
import type { TimeZoneChoice } from '../../../lib/time-zone'

// The time axis of both plots: 24-hour labels in the chosen zone (browser or UTC), the date under the
// first tick and under each tick where the day changes, and ticks at least X_SPACE apart, wider than
// the widest label ("23:59:59"), so labels never collide at any width or range.

export const X_SPACE = 80

type Split = number | null

export function timeAxisValues(zone: TimeZoneChoice) {
  return (_u: uPlot, splits: Split[], _axis: number, _space: number, incr: number): (string | null)[] => {
    let prevDay = ''
    return splits.map((s) => {
      if (s === null) return null
      const p = timeParts(new Date(s * 1000), zone)
      const day = `${p.month}-${p.day}`
      const first = prevDay === ''
      const changed = day !== prevDay
      prevDay = day
      if (incr >= 86_400) return first ? `${day}\n${p.year}` : day
      const clock = incr < 60 ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`
      return changed ? `${clock}\n${first ? `${p.year}-` : ''}${day}` : clock
    })
  }
}

/** uPlot's calendar (tick alignment to midnight and whole hours) in the chosen zone. */
export const tzDate = (zone: TimeZoneChoice): ((ts: number) => Date) | undefined =>
  zone === 'utc' ? (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : undefined

export const timeLabel = (zone: TimeZoneChoice) => `Time (${zoneName(zone)})`

/** The cursor's time in the legend. */
export const legendTime = (_u: uPlot, v: number | null): string => (v === null ? '–' : formatDateTime(new Date(v * 1000)))
