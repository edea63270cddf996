// POST /api/test-calls: admit a browser test call (owners/admins; api/routes/browser_calls.py).
import { api } from '@/lib/api-client';

export type TestCallGrant = {
  call_sid: string;
  /** "/ws/browser?access=<token>" on the calls service (same host). */
  ws_path: string;
  /** The full URL instead, when the calls service has its own origin (CALLS_PUBLIC_WS_URL). */
  ws_url?: string | null;
  /** customParameters for `start`. */
  parameters: Record<string, string>;
  expires_at: string;
};

export function startTestCall(businessId?: number | null): Promise<TestCallGrant> {
  return api.post<TestCallGrant>('/api/test-calls', undefined, { params: { business_id: businessId ?? undefined } });
}
