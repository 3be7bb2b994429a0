import { useSyncExternalStore } from 'react'

// Times are shown in the browser's time zone or in UTC: one choice for every view, kept in
// localStorage (as the theme is) so that a reload or another tab shows the same.

export type TimeZoneChoice = 'local' | 'utc'
const KEY = 'pingscope.timezone'
const listeners = new Set<() => void>()

function read(): TimeZoneChoice {
  try {
    return localStorage.getItem(KEY) === 'utc' ? 'utc' : 'local'
  } catch {
    return 'local' // storage refused (private mode, policy): local time, not an error
  }
}

let current: TimeZoneChoice = read()
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return
  current = read()
  listeners.forEach((l) => l())
})

export const getTimeZone = (): TimeZoneChoice => current

export function setTimeZone(z: TimeZoneChoice) {
  current = z
  try {
    localStorage.setItem(KEY, z)
  } catch {
    // not persisted; still applied to this page
  }
  listeners.forEach((l) => l())
}

export function useTimeZone(): TimeZoneChoice {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    getTimeZone,
  )
}

/** The IANA zone for Intl (undefined: the browser's own). */
export const intlTimeZone = (z: TimeZoneChoice = current): string | undefined => (z === 'utc' ? 'UTC' : undefined)
