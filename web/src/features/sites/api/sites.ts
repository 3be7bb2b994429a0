import type { SiteOut } from '@server/sites/sites.schema.js'
import { useQuery } from '@tanstack/react-query'
import { api } from '../../../lib/api-client'

export type { SiteOut }

/** The sites (vantage points) with their probes; they change when a probe of a new site starts. */
export const useSites = () =>
  useQuery({ queryKey: ['sites'], queryFn: ({ signal }) => api.get<SiteOut[]>('/sites', undefined, signal), staleTime: 60_000, refetchInterval: 60_000 })
