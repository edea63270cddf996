// POST /api/broadcasts: create a broadcast (status accepted) from a lead filter. The form's
// Idempotency-Key makes a double submit one broadcast (the second answer is the first one).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { Broadcast } from './types';

export type Audience = { status?: string; source?: string; q?: string };

export type CreateBroadcastInput = {
  name: string;
  text: string;
  attachment_id: number | null;
  audience: Audience;
  key: string;
};

export const createBroadcast = ({ key, ...body }: CreateBroadcastInput) =>
  api.post<Broadcast>('/api/broadcasts', body, { headers: { 'Idempotency-Key': key } });

export function useCreateBroadcast() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createBroadcast,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['broadcasts', 'list'] }),
  });
}
