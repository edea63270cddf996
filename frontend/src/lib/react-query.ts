import { QueryClient, type DefaultOptions } from '@tanstack/react-query';

import { isApiError } from '@/lib/api-client';

export const queryConfig = {
  queries: {
    refetchOnWindowFocus: false,
    staleTime: 30_000,
    // 4xx answers do not change by asking again; 5xx and network errors get two more tries.
    retry: (failures, error) => !(isApiError(error) && error.status >= 400 && error.status < 500) && failures < 2,
  },
  mutations: { retry: false },
} satisfies DefaultOptions;

export function createQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: queryConfig });
}

/** The return type of a function, awaited: the data type of a fetcher. */
export type ApiFnReturnType<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;
