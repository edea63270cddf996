// POST /api/whatsapp/messages: reply to a lead. Its Idempotency-Key makes a retry of the same
// message safe (the gateway sends a key once). The thread shows the message at once and marks it
// failed with the reason when the server refuses (components/thread.tsx keeps that outbox).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { messagesQueryKey } from './get-messages';
import type { Page, WhatsAppMessage } from './types';

export type SendInput = { leadId: number; text: string; key: string };

export const sendMessage = ({ leadId, text, key }: SendInput) =>
  api.post<WhatsAppMessage>('/api/whatsapp/messages', { lead_id: leadId, text }, { headers: { 'Idempotency-Key': key } });

export function newMessageKey(): string {
  return crypto.randomUUID();
}

export function useSendMessage() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: sendMessage,
    onSuccess: (message, input) => {
      // The stored message takes the optimistic one's place without waiting for a refetch.
      queryClient.setQueryData<Page<WhatsAppMessage>>(messagesQueryKey(input.leadId), (page) =>
        page && !page.items.some((m) => m.id === message.id)
          ? { ...page, items: [message, ...page.items], total: page.total + 1 }
          : page,
      );
      void queryClient.invalidateQueries({ queryKey: ['whatsapp', 'conversations'] });
    },
  });
}
