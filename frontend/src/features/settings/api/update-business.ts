// PATCH /api/businesses/{id}: change some settings (admins); the answer is the whole business.
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { businessQueryKey, type Business } from './get-business';

export type BusinessUpdate = Partial<
  Pick<
    Business,
    | 'name'
    | 'phone_e164'
    | 'timezone'
    | 'language'
    | 'greeting'
    | 'brain'
    | 'brain_settings'
    | 'max_concurrent_calls'
    | 'webhook_url'
    | 'recording_retention_days'
  > & { whatsapp_number: string | null; webhook_secret: string }
>;

export const updateBusiness = ({ id, data }: { id: number; data: BusinessUpdate }) =>
  api.patch<Business>(`/api/businesses/${id}`, data);

export function useUpdateBusiness() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateBusiness,
    onSuccess: (business) => queryClient.setQueryData(businessQueryKey(business.id), business),
  });
}
