// GET /api/ops/dead-letters?page&per_page: jobs that failed for good, newest first (system admins).
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type DeadLetter = {
  id: string;
  function: string;
  queue: string;
  reason: string;
  /** The exception class the reason names (e.g. PermanentJobError), or null. */
  error: string | null;
  /** ISO time, or "?" when unknown. */
  failed_at: string;
};

export type DeadLetterPage = { items: DeadLetter[]; page: number; per_page: number; total: number; pages: number };

export const getDeadLetters = ({ page, signal }: { page: number; signal?: AbortSignal }) =>
  api.get<DeadLetterPage>('/api/ops/dead-letters', { params: { page, per_page: 20 }, signal });

export const getDeadLettersQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ['operations', 'dead-letters', page],
    queryFn: ({ signal }) => getDeadLetters({ page, signal }),
    placeholderData: keepPreviousData,
  });

export function useDeadLetters(page: number, enabled: boolean) {
  return useQuery({ ...getDeadLettersQueryOptions(page), enabled });
}
