// DELETE /api/email-accounts/{id}: remove a mailbox (messages already synced stay).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { EMAIL_ACCOUNTS_KEY } from './get-email-accounts';

export const deleteEmailAccount = (id: number) => api.delete<{ deleted: number }>(`/api/email-accounts/${id}`);

export function useDeleteEmailAccount() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteEmailAccount,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: EMAIL_ACCOUNTS_KEY }),
  });
}
