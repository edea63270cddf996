// GET /api/leads?status&source&q&sort&page&per_page (api/routes/leads.py): a page of leads.
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { Lead, LeadSort, LeadSource, LeadStatus, Page } from './types';

export type LeadFilters = {
  status?: LeadStatus | undefined;
  source?: LeadSource | undefined;
  q?: string | undefined;
  sort?: LeadSort | undefined;
  page?: number | undefined;
  per_page?: number | undefined;
};

export const getLeads = (filters: LeadFilters, signal?: AbortSignal) =>
  api.get<Page<Lead>>('/api/leads', { params: filters, signal });

export const LEADS_LIST_KEY = ['leads', 'list'] as const;

export const getLeadsQueryOptions = (filters: LeadFilters) =>
  queryOptions({
    queryKey: [...LEADS_LIST_KEY, filters],
    queryFn: ({ signal }) => getLeads(filters, signal),
    placeholderData: keepPreviousData,
  });

export function useLeads(filters: LeadFilters) {
  return useQuery(getLeadsQueryOptions(filters));
}
