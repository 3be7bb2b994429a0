import { z } from 'zod'

// Building blocks of every request schema (the API, the CLI and the web UI share them): a value that
// PostgreSQL would refuse, hence a 500, is a 422 naming its field instead.
// - Text: PostgreSQL text cannot hold NUL, and an unpaired UTF-16 surrogate has no UTF-8 form (the
//   driver would store U+FFFD, and jsonb, where events keep the values, refuses it).
// - Ids: PostgreSQL int4.
// - Times: timestamptz has no year 0; nothing pingscope stores is older than 1970 or later than 9999.

export const MAX_ID = 2_147_483_647

// Without the u flag, so that a surrogate is one code unit and a pair two.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
export const UNSAFE_TEXT = 'must not contain NUL characters or unpaired surrogates'

export const isSafeText = (s: string): boolean => !s.includes('\u0000') && !LONE_SURROGATE.test(s)

/** A string PostgreSQL can store as text; chain .trim(), .min(), .max(), .regex() … after it. */
export const safeText = () => z.string().refine(isSafeText, { message: UNSAFE_TEXT, abort: true })

/** A row id in a path (`/targets/7`) or a CLI argument: a whole number in 1..2^31−1 (int4). */
export const rowId = z.coerce.number().int().min(1).max(MAX_ID)

const MIN_TIME = Date.UTC(1970, 0, 1)
const END_TIME = Date.UTC(10000, 0, 1)
export const TIME_RANGE = 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z'

/** An ISO 8601 timestamp with seconds and a zone (`Z` or `+02:00`), parsed into a Date in 1970..9999. */
export const isoTime = z.iso
  .datetime({ offset: true })
  .transform((s, ctx) => {
    const d = new Date(s)
    if (d.getTime() >= MIN_TIME && d.getTime() < END_TIME) return d
    ctx.addIssue({ code: 'custom', message: TIME_RANGE })
    return z.NEVER
  })
  .describe('ISO 8601 timestamp with a zone, e.g. 2025-12-10T22:00:00Z (years 1970 to 9999)')

/** A site (vantage point) name: PROBE_SITE's rule and the sites table's check (00011_sites.sql). */
export const SITE_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/
export const SITE_NAME_RULE = '1-64 lowercase letters, digits and . _ - (starting with a letter or digit)'
export const siteName = z.string().regex(SITE_NAME_RE, { message: `must be a site name: ${SITE_NAME_RULE}` })
