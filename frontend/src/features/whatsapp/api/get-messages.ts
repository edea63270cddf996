// GET /api/whatsapp/conversations/{lead_id}/messages: a conversation's messages, newest first.
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { INBOX_REFRESH_MS, type Page, type WhatsAppMessage } from './types';

export const MESSAGES_PER_PAGE = 50;

export const getMessages = ({ leadId, signal }: { leadId: number; signal?: AbortSignal }) =>
  api.get<Page<WhatsAppMessage>>(`/api/whatsapp/conversations/${leadId}/messages`, {
    params: { page: 1, per_page: MESSAGES_PER_PAGE },
    signal,
  });

export const messagesQueryKey = (leadId: number) => ['whatsapp', 'messages', leadId] as const;

export const getMessagesQueryOptions = (leadId: number) =>
  queryOptions({
    queryKey: messagesQueryKey(leadId),
    queryFn: ({ signal }) => getMessages({ leadId, signal }),
    refetchInterval: INBOX_REFRESH_MS,
  });

export function useMessages(leadId: number) {
  return useQuery(getMessagesQueryOptions(leadId));
}
