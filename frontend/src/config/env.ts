// The one reader of import.meta.env: parsed once at startup; a bad value fails with every
// problem listed (docs/ARCHITECTURE.md §8).
import { z } from 'zod';

const EnvSchema = z.object({
  // Where the API lives; "" means the page's own origin (the dev proxy, or nginx in production).
  API_URL: z
    .string()
    .default('')
    .refine((v) => v === '' || /^https?:\/\/[^/]+$/.test(v), {
      error: 'must be empty (same origin) or an origin such as https://api.example.com, without a path',
    }),
  APP_NAME: z.string().min(1).default('ProSaaS'),
  // Event stream reconnects: first wait and the cap of the exponential backoff.
  EVENTS_RETRY_MIN_MS: z.coerce.number().int().min(100).default(1000),
  EVENTS_RETRY_MAX_MS: z.coerce.number().int().min(1000).default(30000),
});

export type Env = z.infer<typeof EnvSchema>;

export function parseEnv(raw: Record<string, unknown>): Env {
  const values = Object.fromEntries(
    Object.entries(raw)
      .filter(([key]) => key.startsWith('VITE_APP_'))
      .map(([key, value]) => [key.slice('VITE_APP_'.length), value]),
  );
  const parsed = EnvSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `VITE_APP_${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}

export const env = parseEnv(import.meta.env);
