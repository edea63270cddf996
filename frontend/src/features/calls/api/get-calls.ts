// GET /api/calls?status&direction&lead_id&page&per_page (api/routes/calls.py): a page of calls, newest first.
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { Call, CallDirection, CallStatus, Page } from './types';

export type CallFilters = {
  status?: CallStatus | undefined;
  direction?: CallDirection | undefined;
  lead_id?: number | undefined;
  page?: number | undefined;
  per_page?: number | undefined;
};

export const getCalls = (filters: CallFilters, signal?: AbortSignal) =>
  api.get<Page<Call>>('/api/calls', { params: filters, signal });

export const getCallsQueryOptions = (filters: CallFilters) =>
  queryOptions({
    queryKey: ['calls', 'list', filters],
    queryFn: ({ signal }) => getCalls(filters, signal),
    placeholderData: keepPreviousData,
  });

export function useCalls(filters: CallFilters) {
  return useQuery(getCallsQueryOptions(filters));
}
