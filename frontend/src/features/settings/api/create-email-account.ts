// POST /api/email-accounts: add a mailbox (201; due for its first sync at once).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { EMAIL_ACCOUNTS_KEY, type EmailAccount } from './get-email-accounts';

export type EmailAccountInput = {
  address: string;
  imap_host: string;
  imap_port: number;
  imap_username: string;
  /** Write-only; left out of an update keeps the stored one. */
  password?: string;
  tls_mode: 'ssl' | 'starttls';
  mailbox: string;
  sync_interval_seconds: number;
  is_active: boolean;
};

export const createEmailAccount = (data: EmailAccountInput) => api.post<EmailAccount>('/api/email-accounts', data);

export function useCreateEmailAccount() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createEmailAccount,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: EMAIL_ACCOUNTS_KEY }),
  });
}
