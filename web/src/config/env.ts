import { z } from 'zod/mini'

// Build-time settings (Vite's import.meta.env), checked once: a bad value stops the app with a clear
// message instead of odd requests later.
const schema = z.object({
  /** Base URL of the API; empty (the default) means this page's own origin, as `pingscope serve` does. */
  VITE_API_URL: z.optional(z.union([z.literal(''), z.url()])),
})

function loadEnv() {
  const parsed = schema.safeParse(import.meta.env)
  if (!parsed.success) {
    throw new Error(`Invalid dashboard build settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  return { apiUrl: (parsed.data.VITE_API_URL ?? '').replace(/\/+$/, '') }
}

export const env = loadEnv()
