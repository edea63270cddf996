// POST /api/ops/dead-letters/{id}/requeue: put a dead job back on its queue (200 {id, queue, retries}).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type Requeued = { id: string; queue: string; retries: number };

export const requeueDeadLetter = (id: string) =>
  api.post<Requeued>(`/api/ops/dead-letters/${encodeURIComponent(id)}/requeue`);

export function useRequeueDeadLetter() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: requeueDeadLetter,
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['operations'] }),
  });
}
