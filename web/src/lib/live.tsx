import { useQueryClient } from '@tanstack/react-query'
import { type ReactNode, createContext, useContext, useEffect, useRef, useState } from 'react'
import type { LiveEvent } from '@server/live/live.types.js'
import { api } from './api-client'

// One Server-Sent Events connection to GET /live for the whole app. Components subscribe with
// useLiveEvent; a change to the target set (from any user or process) or an outage refreshes the
// target queries once, debounced, instead of anyone polling.

type Listener = (e: LiveEvent) => void
export type LiveStatus = 'connecting' | 'open' | 'closed'

const Ctx = createContext<{ listeners: Set<Listener>; status: LiveStatus } | null>(null)

export function LiveProvider({ token, children }: { token: string; children: ReactNode }) {
  const queryClient = useQueryClient()
  const [listeners] = useState(() => new Set<Listener>())
  const [status, setStatus] = useState<LiveStatus>('connecting')

  useEffect(() => {
    const es = new EventSource(api.liveUrl())
    let timer: ReturnType<typeof setTimeout> | undefined
    const refreshTargets = () => {
      clearTimeout(timer)
      timer = setTimeout(() => void queryClient.invalidateQueries({ queryKey: ['targets'] }), 250)
    }
    const dispatch = (m: MessageEvent<string>) => {
      const e = JSON.parse(m.data) as LiveEvent
      if (e.type === 'targets' || e.type === 'outage') refreshTargets()
      for (const l of listeners) l(e)
    }
    for (const type of ['samples', 'outage', 'targets']) es.addEventListener(type, dispatch as EventListener)
    es.onopen = () => setStatus('open')
    es.onerror = () => {
      setStatus(es.readyState === EventSource.CLOSED ? 'closed' : 'connecting')
      // A refused stream is most likely an expired token: any request then ends the session.
      if (es.readyState === EventSource.CLOSED) void api.get('/auth/me').catch(() => undefined)
    }
    return () => {
      clearTimeout(timer)
      es.close()
    }
  }, [token, listeners, queryClient])

  return <Ctx.Provider value={{ listeners, status }}>{children}</Ctx.Provider>
}

/** Calls `fn` (the latest one) for every live event while mounted. */
export function useLiveEvent(fn: Listener) {
  const ctx = useContext(Ctx)
  const ref = useRef(fn)
  ref.current = fn
  useEffect(() => {
    if (!ctx) return
    const l: Listener = (e) => ref.current(e)
    ctx.listeners.add(l)
    return () => void ctx.listeners.delete(l)
  }, [ctx])
}

export function useLiveStatus(): LiveStatus {
  return useContext(Ctx)?.status ?? 'closed'
}
