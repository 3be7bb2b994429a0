import type { tokenResponse, userOut } from '@server/auth/auth.schema.js'
import { useQuery } from '@tanstack/react-query'
import type { z } from 'zod'
import { api } from '../../../lib/api-client'

export type Me = z.infer<typeof userOut> & { via: 'jwt' | 'api_token' }
export type TokenResponse = z.infer<typeof tokenResponse>

export const login = (username: string, password: string) => api.post<TokenResponse>('/auth/login', { username, password })

export const useMe = () => useQuery({ queryKey: ['me'], queryFn: () => api.get<Me>('/auth/me'), staleTime: 60_000 })
