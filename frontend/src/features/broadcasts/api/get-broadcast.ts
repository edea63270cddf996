// GET /api/broadcasts/{id}: one broadcast and its progress (read again every few seconds while running).
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { PROGRESS_REFRESH_MS, type Broadcast } from './types';

export const getBroadcast = ({ id, signal }: { id: number; signal?: AbortSignal }) =>
  api.get<Broadcast>(`/api/broadcasts/${id}`, { signal });

export const broadcastQueryKey = (id: number) => ['broadcasts', 'detail', id] as const;

export const getBroadcastQueryOptions = (id: number) =>
  queryOptions({
    queryKey: broadcastQueryKey(id),
    queryFn: ({ signal }) => getBroadcast({ id, signal }),
    refetchInterval: (query) => (query.state.data?.status === 'running' ? PROGRESS_REFRESH_MS : false),
  });

export function useBroadcast(id: number) {
  return useQuery(getBroadcastQueryOptions(id));
}
