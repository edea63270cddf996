// POST /api/whatsapp/conversations/{lead_id}/read: mark a conversation's inbound messages read.
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { Conversation, Page } from './types';

export type ReadResult = { marked: number; receipts: 'sent' | 'none' | 'failed'; detail?: string | null };

export const markRead = (leadId: number) => api.post<ReadResult>(`/api/whatsapp/conversations/${leadId}/read`);

export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: markRead,
    onSuccess: (_result, leadId) => {
      queryClient.setQueriesData<Page<Conversation>>({ queryKey: ['whatsapp', 'conversations'] }, (page) =>
        page
          ? { ...page, items: page.items.map((c) => (c.lead.id === leadId ? { ...c, unread: 0 } : c)) }
          : page,
      );
    },
  });
}
