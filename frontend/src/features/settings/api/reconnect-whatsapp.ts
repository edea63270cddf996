// POST /api/whatsapp/connect: (re)start the business's WhatsApp session (admins; api/routes/whatsapp.py).
import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type WhatsAppSession = { state?: string; [key: string]: unknown };

export function reconnectWhatsApp(): Promise<WhatsAppSession> {
  return api.post<WhatsAppSession>('/api/whatsapp/connect');
}

export function useReconnectWhatsApp({ onSuccess }: { onSuccess?: (session: WhatsAppSession) => void } = {}) {
  return useMutation({ mutationFn: reconnectWhatsApp, onSuccess });
}
