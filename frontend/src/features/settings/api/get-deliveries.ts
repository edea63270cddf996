// GET /api/webhooks/deliveries: the business's webhook deliveries, newest first (admins).
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export type WebhookDelivery = {
  id: number;
  business_id: number;
  event_id: string;
  event: 'call_completed' | 'lead_created' | 'lead_updated';
  url: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string;
  payload: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
};

export type DeliveryPage = { items: WebhookDelivery[]; page: number; per_page: number; total: number; pages: number };

export type DeliveriesFilter = { page: number; status: DeliveryStatus | '' };

export const getDeliveries = ({ page, status, signal }: DeliveriesFilter & { signal?: AbortSignal }) =>
  api.get<DeliveryPage>('/api/webhooks/deliveries', { params: { page, per_page: 20, status }, signal });

export const getDeliveriesQueryOptions = (filter: DeliveriesFilter) =>
  queryOptions({
    queryKey: ['settings', 'deliveries', filter],
    queryFn: ({ signal }) => getDeliveries({ ...filter, signal }),
    placeholderData: keepPreviousData,
  });

export function useDeliveries(filter: DeliveriesFilter) {
  return useQuery(getDeliveriesQueryOptions(filter));
}
