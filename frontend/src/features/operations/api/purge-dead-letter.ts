// DELETE /api/ops/dead-letters/{id}: forget a dead job for good (204).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export const purgeDeadLetter = (id: string) => api.delete<undefined>(`/api/ops/dead-letters/${encodeURIComponent(id)}`);

export function usePurgeDeadLetter() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: purgeDeadLetter,
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['operations'] }),
  });
}
