// GET /api/ops/overview (system admins): calls instances and capacity, queues, dead letters,
// workers, the scheduler's leader and the WhatsApp gateway shards.
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type Instance = {
  id: string;
  live?: boolean;
  active: number | null;
  capacity: number | null;
  pending: number | null;
  draining: boolean | null;
  version: string | null;
  started_at: string | null;
};

export type Worker = {
  name: string;
  hostname: string;
  pid: number | null;
  queues: string[];
  state: string;
  current_job: string | null;
  last_heartbeat: string | null;
};

export type GatewayShard = {
  shard: number;
  url: string;
  healthy: boolean;
  state?: 'ok' | 'unhealthy' | 'unreachable' | 'wrong_shard';
  detail?: string | null;
  sessions: Record<string, number> | null;
};

export type Overview = {
  instances: Instance[];
  queues: { name: string; depth: number }[];
  dead_letters: number;
  workers: Worker[];
  scheduler: { leader: string; token?: string; expires_in_ms: number } | null;
  gateway_shards: GatewayShard[];
  generated_at?: string;
};

/** The page reads the overview again this often while it is open. */
export const OVERVIEW_REFRESH_MS = 10_000;

export const getOverview = ({ signal }: { signal?: AbortSignal } = {}) => api.get<Overview>('/api/ops/overview', { signal });

export const getOverviewQueryOptions = () =>
  queryOptions({
    queryKey: ['operations', 'overview'],
    queryFn: ({ signal }) => getOverview({ signal }),
    refetchInterval: OVERVIEW_REFRESH_MS,
  });

export function useOverview(enabled: boolean) {
  return useQuery({ ...getOverviewQueryOptions(), enabled });
}
