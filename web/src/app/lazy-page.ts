import { type ComponentType, lazy } from 'react'

// Pages other than the fleet and the login are separate chunks, loaded when first opened (app.tsx).
// A tab left open across a rebuild asks for the previous build's chunk names, which are gone: the page
// then reloads once, for the new build. If the chunk fails again, the error is left to show.

const RELOADED_KEY = 'pingscope.chunk-reload'

export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>) {
  return lazy(async () => {
    try {
      const page = await load()
      sessionStorage.removeItem(RELOADED_KEY)
      return { default: page }
    } catch (err) {
      if (sessionStorage.getItem(RELOADED_KEY)) throw err
      sessionStorage.setItem(RELOADED_KEY, '1')
      location.reload()
      return new Promise<never>(() => {})
    }
  })
}
