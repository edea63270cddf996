// GET /api/dashboard (api/routes/dashboard.py): the business's numbers at a glance.
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type HourCount = { hour: string; answered: number; rejected: number };

export type Dashboard = {
  /** null: a system admin's view of every business. */
  business_id: number | null;
  /** Live calls; null while Redis is unreachable. */
  active_calls: number | null;
  max_concurrent_calls: number | null;
  cluster: { active_count: number; capacity: number } | null;
  /** The last 24 UTC hours, oldest first, the current one last. */
  calls_per_hour: HourCount[];
  rejected_24h: Record<string, number>;
  /** System admins only. */
  queues: { name: string; depth: number }[] | null;
  whatsapp: { state: string; phone?: string | null; updated_at?: string | null } | null;
  redis_available?: boolean;
  generated_at?: string;
};

export const getDashboard = ({ signal }: { signal?: AbortSignal } = {}) =>
  api.get<Dashboard>('/api/dashboard', { signal });

export const DASHBOARD_QUERY_KEY = ['dashboard'] as const;

export const getDashboardQueryOptions = () =>
  queryOptions({ queryKey: DASHBOARD_QUERY_KEY, queryFn: ({ signal }) => getDashboard({ signal }), staleTime: Infinity });

export function useDashboard() {
  return useQuery(getDashboardQueryOptions());
}
