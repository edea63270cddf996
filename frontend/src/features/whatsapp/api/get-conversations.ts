// GET /api/whatsapp/conversations: leads with WhatsApp messages, latest first, with unread counts.
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { INBOX_REFRESH_MS, type Conversation, type Page } from './types';

export const getConversations = ({ page, signal }: { page: number; signal?: AbortSignal }) =>
  api.get<Page<Conversation>>('/api/whatsapp/conversations', { params: { page, per_page: 50 }, signal });

export const conversationsQueryKey = (page: number) => ['whatsapp', 'conversations', page] as const;

export const getConversationsQueryOptions = (page = 1) =>
  queryOptions({
    queryKey: conversationsQueryKey(page),
    queryFn: ({ signal }) => getConversations({ page, signal }),
    refetchInterval: INBOX_REFRESH_MS,
  });

export function useConversations(page = 1) {
  return useQuery(getConversationsQueryOptions(page));
}
