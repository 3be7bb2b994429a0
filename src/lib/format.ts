// Small conversions used by every JSON mapping.

/** Microseconds to milliseconds, rounded to the whole microsecond; null stays null. */
export function usToMs(us: number): number
export function usToMs(us: number | null): number | null
export function usToMs(us: number | null): number | null {
  return us === null ? null : Math.round(us) / 1000
}

/** ISO 8601 in UTC with `Z`, or null. */
export const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null)
