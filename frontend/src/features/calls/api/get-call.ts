// GET /api/calls/{id} (api/routes/calls.py): one call with its transcript and events.
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api, apiUrl } from '@/lib/api-client';

import type { CallDetail } from './types';

export const getCall = (id: number, signal?: AbortSignal) => api.get<CallDetail>(`/api/calls/${id}`, { signal });

export const getCallQueryOptions = (id: number) =>
  queryOptions({ queryKey: ['calls', 'detail', id], queryFn: ({ signal }) => getCall(id, signal) });

export function useCall(id: number) {
  return useQuery(getCallQueryOptions(id));
}

/** GET /api/calls/{id}/recording: the WAV, served with HTTP Range (the <audio> element seeks with it). */
export const callRecordingUrl = (id: number) => apiUrl(`/api/calls/${id}/recording`);
