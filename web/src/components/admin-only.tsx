import type { ReactNode } from 'react'
import { useMe } from '../features/auth/api/auth'

/** Renders its children for admins only: viewers do not see actions the API would refuse them (403). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const me = useMe()
  return me.data?.role === 'admin' ? <>{children}</> : null
}
