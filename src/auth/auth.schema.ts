import { z } from 'zod'

export const roleSchema = z.enum(['admin', 'viewer'])

export const loginBody = z.object({
  username: z.string().min(1).max(64),
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
  username: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._@-]+$/, 'may contain letters, digits and . _ @ - only'),
  password: z.string().min(8, 'must be at least 8 characters').max(1024),
  role: roleSchema.default('viewer'),
})

export const userUpdateBody = z
  .object({
    password: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
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
})

export const tokenCreateBody = z.object({
  name: z.string().trim().min(1).max(100),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
})

export const idParams = z.object({ id: z.coerce.number().int().min(1).max(2147483647) })

export const messageOut = z.object({ message: z.string(), id: z.number().int() })
