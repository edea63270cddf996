// POST /api/webhooks/deliveries/{id}/redeliver: send a delivered or failed webhook again (202).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { WebhookDelivery } from './get-deliveries';

export const redeliver = (id: number) => api.post<WebhookDelivery>(`/api/webhooks/deliveries/${id}/redeliver`);

export function useRedeliver() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: redeliver,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['settings', 'deliveries'] }),
  });
}
