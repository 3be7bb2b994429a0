import type { AlertCondition, RuleCreate, RuleOut, RuleUpdate, SilenceCreate, SilenceOut, silenceCreateBody } from '@server/alerts/alerts.schema.js'
import type { ChannelCreate, ChannelKind, ChannelOut, ChannelUpdate, channelCreatedOut } from '@server/alerts/channels.schema.js'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

// Rules, silences and channels (GET for everyone signed in, changes for admins), and the list of
// conditions the API accepts, read from its OpenAPI document so that new conditions appear here
// without a dashboard change.

export type { AlertCondition, ChannelKind, ChannelOut, RuleOut, SilenceOut }
/** What the rule form sends: the create body before the API applies its defaults. */
export type RuleInput = Partial<RuleCreate>
export type RulePatch = Partial<{ [K in keyof RuleUpdate]: RuleUpdate[K] | null }>
/** Times as ISO text, as the API reads them (its schema turns them into Dates). */
export type SilenceInput = z.input<typeof silenceCreateBody>
export type ChannelCreated = z.infer<typeof channelCreatedOut>
export type { ChannelCreate, ChannelUpdate, SilenceCreate }

const keys = {
  rules: ['alerts', 'rules'] as const,
  channels: ['alerts', 'channels'] as const,
  silences: ['alerts', 'silences'] as const,
}

export const useRules = () => useQuery({ queryKey: keys.rules, queryFn: ({ signal }) => api.get<RuleOut[]>('/alerts/rules', undefined, signal) })
export const useChannels = () => useQuery({ queryKey: keys.channels, queryFn: ({ signal }) => api.get<ChannelOut[]>('/alerts/channels', undefined, signal), refetchInterval: 30_000 })
/** Active and upcoming silences; expired ones only matter to the history of incidents. */
export const useSilences = () =>
  useQuery({
    queryKey: keys.silences,
    queryFn: async ({ signal }) => {
      const [active, upcoming] = await Promise.all([
        api.get<SilenceOut[]>('/alerts/silences', { state: 'active', limit: 1000 }, signal),
        api.get<SilenceOut[]>('/alerts/silences', { state: 'upcoming', limit: 1000 }, signal),
      ])
      return [...active, ...upcoming]
    },
    refetchInterval: 30_000,
  })

interface OpenApiDoc {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, { enum?: string[] }> } }> } }>>
}

/** The conditions POST /alerts/rules accepts, from the API's own OpenAPI document. */
export const useConditions = () =>
  useQuery({
    queryKey: ['alerts', 'conditions'],
    staleTime: Infinity,
    queryFn: async ({ signal }) => {
      const doc = await api.get<OpenApiDoc>('/docs/json', undefined, signal)
      const enumOf = doc.paths?.['/alerts/rules']?.post?.requestBody?.content?.['application/json']?.schema?.properties?.condition?.enum
      if (!enumOf?.length) throw new Error('The API did not say which alert conditions it accepts.')
      return enumOf as AlertCondition[]
    },
  })

function useChange<A, R>(fn: (a: A) => Promise<R>, ...invalidate: (readonly string[])[]) {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      for (const queryKey of invalidate) void qc.invalidateQueries({ queryKey })
    },
  })
}

export const useCreateRule = () => useChange((body: RuleInput) => api.post<RuleOut>('/alerts/rules', body), keys.rules)
export const useUpdateRule = () => useChange(({ id, ...patch }: RulePatch & { id: number }) => api.patch<RuleOut>(`/alerts/rules/${id}`, patch), keys.rules, ['incidents'])
export const useDeleteRule = () => useChange((id: number) => api.delete(`/alerts/rules/${id}`), keys.rules, ['incidents'])

export const useCreateSilence = () => useChange((body: SilenceInput) => api.post<SilenceOut>('/alerts/silences', body), keys.silences)
/** Ends a silence now (it stays in the list of expired ones). */
export const useEndSilence = () => useChange((id: number) => api.patch<SilenceOut>(`/alerts/silences/${id}`, { ends_at: new Date().toISOString() }), keys.silences)
export const useDeleteSilence = () => useChange((id: number) => api.delete(`/alerts/silences/${id}`), keys.silences)

export const useCreateChannel = () => useChange((body: ChannelCreate) => api.post<ChannelCreated>('/alerts/channels', body), keys.channels)
export const useUpdateChannel = () => useChange(({ id, ...patch }: ChannelUpdate & { id: number }) => api.patch<ChannelOut>(`/alerts/channels/${id}`, patch), keys.channels)
export const useDeleteChannel = () => useChange((id: number) => api.delete(`/alerts/channels/${id}`), keys.channels, keys.rules)
