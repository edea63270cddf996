// POST /api/broadcasts/{id}/{start|pause|resume|cancel}: the answer is the broadcast in its new state.
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { broadcastQueryKey } from './get-broadcast';
import type { Broadcast, BroadcastAction } from './types';

export type Transitioned = Broadcast & { job_queued: boolean };

export const broadcastAction = ({ id, action }: { id: number; action: BroadcastAction }) =>
  api.post<Transitioned>(`/api/broadcasts/${id}/${action}`);

export function useBroadcastAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: broadcastAction,
    onSuccess: ({ job_queued: _queued, ...broadcast }) => {
      queryClient.setQueryData(broadcastQueryKey(broadcast.id), broadcast);
      void queryClient.invalidateQueries({ queryKey: ['broadcasts', 'list'] });
    },
    // 409: the broadcast moved on meanwhile (finished, or paused elsewhere): show where it is.
    onError: (_error, { id }) => void queryClient.invalidateQueries({ queryKey: broadcastQueryKey(id) }),
  });
}
