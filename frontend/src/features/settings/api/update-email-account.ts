// PATCH /api/email-accounts/{id}: change a mailbox; a new password, server or mailbox makes it due at once.
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import type { EmailAccountInput } from './create-email-account';
import { EMAIL_ACCOUNTS_KEY, type EmailAccount } from './get-email-accounts';

export const updateEmailAccount = ({ id, data }: { id: number; data: Partial<EmailAccountInput> }) =>
  api.patch<EmailAccount>(`/api/email-accounts/${id}`, data);

export function useUpdateEmailAccount() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateEmailAccount,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: EMAIL_ACCOUNTS_KEY }),
  });
}
