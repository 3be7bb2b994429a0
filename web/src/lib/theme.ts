import { useSyncExternalStore } from 'react'

// Light and dark themes: CSS variables switched by <html data-theme>. index.html applies the saved or
// system choice before the first paint; this keeps it and lets charts redraw in the new colours.

export type Theme = 'light' | 'dark'
const KEY = 'pingscope.theme'
const listeners = new Set<() => void>()

export const getTheme = (): Theme => (document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light')

export function setTheme(t: Theme) {
  document.documentElement.dataset.theme = t
  localStorage.setItem(KEY, t)
  listeners.forEach((l) => l())
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    getTheme,
  )
}

/** A CSS variable's current value (for canvas drawing). */
export const cssVar = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim()
