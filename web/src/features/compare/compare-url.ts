// Target id lists in the query string: the fleet's selection (?sel=3,17,42) and the compare page's
// targets (/compare?ids=3,17,42, with the chart's range/zoom/scale keys of chart/chart-url.ts). A list
// is parsed leniently and says what it left out, so an edited or truncated link still opens the page
// with a message instead of failing.

/** One chart stays readable with this many lines (and the palette has this many colours). */
export const MAX_COMPARE = 8

export interface IdList {
  /** Valid, distinct ids in the order given. */
  ids: number[]
  /** Items that are not a positive whole number, as written. */
  invalid: string[]
  /** Ids given more than once (listed once). */
  duplicates: number[]
}

export function parseIds(raw: string | null): IdList {
  const out: IdList = { ids: [], invalid: [], duplicates: [] }
  for (const item of (raw ?? '').split(',')) {
    const s = item.trim()
    if (!s) continue
    const n = /^\d{1,15}$/.test(s) ? Number(s) : NaN
    if (!Number.isSafeInteger(n) || n < 1) out.invalid.push(s)
    else if (!out.ids.includes(n)) out.ids.push(n)
    else if (!out.duplicates.includes(n)) out.duplicates.push(n)
  }
  return out
}

export const idsToParam = (ids: readonly number[]): string | null => (ids.length ? ids.join(',') : null)

export const selectionFromSearch = (p: URLSearchParams): number[] => parseIds(p.get('sel')).ids
export const selectionToSearch = (ids: readonly number[]) => ({ sel: idsToParam(ids) })

/** The compare page of these targets (the chart's default range, the last hour, is left out as there). */
export const compareHref = (ids: readonly number[]): string => `/compare?ids=${ids.join(',')}`
