import { z } from 'zod'
import { rowId, safeText, siteName } from '../lib/input.schema.js'

export const roleSchema = z.enum(['admin', 'viewer'])

// Passwords are hashed, never stored as text: only new ones are held to safeText (NUL or an unpaired
// surrogate in one is more likely a client bug than a choice), so no existing password stops working.
const newPassword = safeText().min(8, 'must be at least 8 characters').max(1024)

export const loginBody = z.object({
  username: safeText().min(1).max(64),
  password: z.string().min(1).max(1024),
})

export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int().describe('seconds'),
})

export const userOut = z.object({
  id: z.number().int(),
  username: z.string(),
  role: roleSchema,
  disabled: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
})

export const userCreateBody = z.object({
  username: safeText()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._@-]+$/, 'may contain letters, digits and . _ @ - only'),
  password: newPassword,
  role: roleSchema.default('viewer'),
})

export const userUpdateBody = z
  .object({
    password: newPassword.optional(),
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()

export const apiTokenOut = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  name: z.string(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  /** null: the user's own rights; 'probe': a remote probe agent's token (/probe/* only, for `site`). */
  scope: z.enum(['probe']).nullable(),
  site: z.string().nullable(),
})

export const tokenCreateBody = z
  .object({
    name: safeText().trim().min(1).max(100),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
    scope: z.enum(['probe']).optional().describe("'probe': a remote probe agent's token (admins only), valid on /probe/* only"),
    site: siteName.optional().describe('the site a probe token probes for (required with scope probe)'),
  })
  .superRefine((b, ctx) => {
    if (b.scope === 'probe' && b.site === undefined) ctx.addIssue({ code: 'custom', path: ['site'], message: 'is required for a probe token' })
    if (b.scope !== 'probe' && b.site !== undefined) ctx.addIssue({ code: 'custom', path: ['site'], message: "is only for a probe token (scope 'probe')" })
  })

export const idParams = z.object({ id: rowId })

export const messageOut = z.object({ message: z.string(), id: z.number().int() })
