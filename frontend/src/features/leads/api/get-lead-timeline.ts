// GET /api/leads/{id}/timeline?page&per_page: the lead's calls and messages, newest first.
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { LeadTimeline } from './types';

const PER_PAGE = 20;

export const getLeadTimeline = (id: number, page: number, signal?: AbortSignal) =>
  api.get<LeadTimeline>(`/api/leads/${id}/timeline`, { params: { page, per_page: PER_PAGE }, signal });

export const getLeadTimelineQueryOptions = (id: number) =>
  infiniteQueryOptions({
    queryKey: ['leads', 'timeline', id],
    queryFn: ({ pageParam, signal }) => getLeadTimeline(id, pageParam, signal),
    initialPageParam: 1,
    getNextPageParam: (last, _all, lastPage) =>
      last.pages !== undefined && lastPage < last.pages ? lastPage + 1 : undefined,
  });

export function useLeadTimeline(id: number) {
  return useInfiniteQuery(getLeadTimelineQueryOptions(id));
}
