import { z } from 'zod'

// GET /sites: the vantage points, from the `sites` table (00011_sites.sql). A site is added when a probe
// of it first starts; 'default' always exists.

export const siteOut = z.object({
  name: z.string(),
  created_at: z.string(),
  probes: z.number().int().describe('probe processes of the site on record: live, stopped or lost within the last hour'),
  live_probes: z.number().int().describe('probes of the site that heartbeat within their lease span'),
  targets: z.number().int().describe("enabled targets the site probes (their `sites` is null or names it)"),
})
export type SiteOut = z.infer<typeof siteOut>
