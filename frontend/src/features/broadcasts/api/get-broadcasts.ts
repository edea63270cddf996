// GET /api/broadcasts: a page of broadcasts with their progress, newest first.
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { PROGRESS_REFRESH_MS, type Broadcast, type Page } from './types';

export const getBroadcasts = ({ page, signal }: { page: number; signal?: AbortSignal }) =>
  api.get<Page<Broadcast>>('/api/broadcasts', { params: { page, per_page: 20 }, signal });

export const getBroadcastsQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ['broadcasts', 'list', page],
    queryFn: ({ signal }) => getBroadcasts({ page, signal }),
    placeholderData: keepPreviousData,
    // Only while one of them is sending do the numbers move.
    refetchInterval: (query) =>
      query.state.data?.items.some((b) => b.status === 'running') ? PROGRESS_REFRESH_MS : false,
  });

export function useBroadcasts(page: number) {
  return useQuery(getBroadcastsQueryOptions(page));
}
