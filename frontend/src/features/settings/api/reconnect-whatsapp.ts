// POST /api/whatsapp/connect: (re)start the business's WhatsApp session (admins; api/routes/whatsapp.py).
// The answer is the session's new state (with the QR when it is already waiting for a scan); it
// replaces the cached state, so Settings → WhatsApp shows the QR at once (src/lib/whatsapp-session.ts).
import { useConnectWhatsApp, type WhatsAppStatus } from '@/lib/whatsapp-session';

export type WhatsAppSession = WhatsAppStatus;

export { connectWhatsApp as reconnectWhatsApp } from '@/lib/whatsapp-session';

export function useReconnectWhatsApp({ onSuccess }: { onSuccess?: (session: WhatsAppSession) => void } = {}) {
  return useConnectWhatsApp({ onSuccess });
}
