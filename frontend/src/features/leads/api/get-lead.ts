// GET /api/leads/{id} (api/routes/leads.py): the lead and its 20 newest calls.
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { LeadDetail } from './types';

export const getLead = (id: number, signal?: AbortSignal) => api.get<LeadDetail>(`/api/leads/${id}`, { signal });

export const getLeadQueryOptions = (id: number) =>
  queryOptions({ queryKey: ['leads', 'detail', id], queryFn: ({ signal }) => getLead(id, signal) });

export function useLead(id: number) {
  return useQuery(getLeadQueryOptions(id));
}
