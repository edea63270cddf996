// GET /api/leads?status&source&q&per_page=1: how many leads a broadcast's filter reaches (its total).
import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { Audience } from './create-broadcast';
import type { Page } from './types';

export const countLeads = ({ audience, signal }: { audience: Audience; signal?: AbortSignal }) =>
  api
    .get<Page<unknown>>('/api/leads', { params: { ...audience, page: 1, per_page: 1 }, signal })
    .then((page) => page.total);

export function useLeadCount(audience: Audience) {
  return useQuery({
    queryKey: ['broadcasts', 'audience-count', audience],
    queryFn: ({ signal }) => countLeads({ audience, signal }),
    placeholderData: keepPreviousData,
  });
}
