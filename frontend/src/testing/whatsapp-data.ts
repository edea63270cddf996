// WhatsApp test data in the API's shapes (api/whatsapp_schemas.py).
import type { WhatsAppStatus } from '@/lib/whatsapp-session';

export function makeWhatsAppStatus(overrides: Partial<WhatsAppStatus> = {}): WhatsAppStatus {
  return {
    business_id: 1,
    shard_id: 1,
    state: 'connected',
    reason: null,
    me: { phone: '+15550100000', lid: null },
    qr: null,
    limited_until: null,
    updated_at: '2026-12-07T09:00:00+00:00',
    gateway_reachable: true,
    source: 'gateway',
    ...overrides,
  };
}
