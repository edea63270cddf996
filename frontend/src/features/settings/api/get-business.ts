// GET /api/businesses/{id}: the business and its settings (api/responses.py Business).
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type Business = {
  id: number;
  name: string;
  phone_e164: string;
  whatsapp_number: string | null;
  whatsapp_shard: number;
  timezone: string;
  language: string;
  greeting: string;
  brain: 'receptionist' | 'echo' | 'openai_realtime';
  brain_settings: Record<string, unknown>;
  max_concurrent_calls: number;
  is_active: boolean;
  /** "" when the business has no webhook. */
  webhook_url: string;
  webhook_secret_set: boolean;
  recording_retention_days: number;
  created_at: string;
  updated_at: string;
};

export const getBusiness = ({ id, signal }: { id: number; signal?: AbortSignal }) =>
  api.get<Business>(`/api/businesses/${id}`, { signal });

export const businessQueryKey = (id: number) => ['settings', 'business', id] as const;

export const getBusinessQueryOptions = (id: number) =>
  queryOptions({ queryKey: businessQueryKey(id), queryFn: ({ signal }) => getBusiness({ id, signal }) });

/** The business; nothing is asked while `id` is null (a system admin has no business of their own). */
export function useBusiness(id: number | null) {
  return useQuery({ ...getBusinessQueryOptions(id ?? 0), enabled: id !== null });
}
