// GET /api/email-accounts: the business's IMAP mailboxes and their sync status (admins).
import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type EmailAccount = {
  id: number;
  business_id: number;
  address: string;
  imap_host: string;
  imap_port: number;
  imap_username: string;
  tls_mode: 'ssl' | 'starttls';
  mailbox: string;
  is_active: boolean;
  sync_interval_seconds: number;
  password_set: boolean;
  last_uid: number;
  uid_validity: number | null;
  last_synced_at: string | null;
  /** Why the last sync failed; empty after a success. */
  last_error: string;
  consecutive_failures: number;
  next_sync_at: string | null;
  created_at: string;
};

export const EMAIL_ACCOUNTS_KEY = ['settings', 'email-accounts'] as const;

export const getEmailAccounts = ({ signal }: { signal?: AbortSignal } = {}) =>
  api.get<{ items: EmailAccount[] }>('/api/email-accounts', { signal }).then((r) => r.items);

export const getEmailAccountsQueryOptions = () =>
  queryOptions({ queryKey: EMAIL_ACCOUNTS_KEY, queryFn: ({ signal }) => getEmailAccounts({ signal }) });

export function useEmailAccounts(enabled: boolean) {
  return useQuery({ ...getEmailAccountsQueryOptions(), enabled });
}
