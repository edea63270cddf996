// POST /api/email-accounts/{id}/sync: queue a sync now (202; 409 when the account is inactive).
import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type SyncQueued = { account_id: number; job_id: string; queued: true };

export const syncEmailAccount = (id: number) => api.post<SyncQueued>(`/api/email-accounts/${id}/sync`);

export function useSyncEmailAccount() {
  return useMutation({ mutationFn: syncEmailAccount });
}
