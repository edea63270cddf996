// Settings → Email: the IMAP mailboxes leads write to — add, edit, delete, sync now — with each
// one's last sync and its error.
import { useState } from 'react';

import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { EmptyState, ErrorState, errorMessage, LoadingState } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';
import { hasRole, useUser } from '@/lib/auth';
import { formatDateTime } from '@/utils/format';

import { useDeleteEmailAccount } from '../api/delete-email-account';
import { useEmailAccounts, type EmailAccount } from '../api/get-email-accounts';
import { useSyncEmailAccount } from '../api/sync-email-account';
import { SettingsSection } from '../components/business-tab';
import { EmailAccountForm } from '../components/email-account-form';

function AccountCard({ account, onEdit, onDelete }: { account: EmailAccount; onEdit: () => void; onDelete: () => void }) {
  const sync = useSyncEmailAccount();
  return (
    <li className="card stack" aria-label={account.address}>
      <div className="card-header">
        <strong style={{ overflowWrap: 'anywhere' }}>{account.address}</strong>
        {!account.is_active ? <Badge>Paused</Badge> : account.last_error ? <Badge tone="danger">Failing</Badge> : <Badge tone="ok">Active</Badge>}
      </div>
      <dl className="details">
        <dt>Server</dt>
        <dd>
          {account.imap_host}:{account.imap_port} ({account.tls_mode === 'ssl' ? 'SSL/TLS' : 'STARTTLS'}), {account.mailbox}
        </dd>
        <dt>Last sync</dt>
        <dd>{account.last_synced_at ? formatDateTime(account.last_synced_at) : 'Not yet'}</dd>
        <dt>Next sync</dt>
        <dd>{formatDateTime(account.next_sync_at)}</dd>
        {account.last_error ? (
          <>
            <dt>Last error</dt>
            <dd className="error">
              {account.last_error}
              {account.consecutive_failures > 1 ? ` (${account.consecutive_failures} times in a row)` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      <div className="row">
        <Button
          size="sm"
          variant="secondary"
          isLoading={sync.isPending}
          disabled={!account.is_active}
          onClick={() =>
            sync.mutate(account.id, {
              onSuccess: () => toast.success(`Syncing ${account.address}…`),
              onError: (error) => toast.error(errorMessage(error)),
            })
          }
        >
          Sync now
        </Button>
        <Button size="sm" variant="secondary" onClick={onEdit}>
          Edit
        </Button>
        <Button size="sm" variant="danger" onClick={onDelete}>
          Delete
        </Button>
      </div>
    </li>
  );
}

function Accounts() {
  const accounts = useEmailAccounts(true);
  const remove = useDeleteEmailAccount();
  const [editing, setEditing] = useState<EmailAccount | 'new' | null>(null);
  const [deleting, setDeleting] = useState<EmailAccount | null>(null);

  if (accounts.isPending) return <LoadingState label="Loading mailboxes…" />;
  if (accounts.isError) return <ErrorState error={accounts.error} title="Could not load the mailboxes" onRetry={() => void accounts.refetch()} />;
  return (
    <div className="stack">
      {editing !== null ? (
        <div className="card">
          <EmailAccountForm key={editing === 'new' ? 'new' : editing.id} account={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />
        </div>
      ) : (
        <div>
          <Button onClick={() => setEditing('new')}>Add a mailbox</Button>
        </div>
      )}
      {accounts.data.length ? (
        <ul className="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Mailboxes">
          {accounts.data.map((account) => (
            <AccountCard key={account.id} account={account} onEdit={() => setEditing(account)} onDelete={() => setDeleting(account)} />
          ))}
        </ul>
      ) : editing === null ? (
        <EmptyState title="No mailboxes">Add the mailbox your leads email; new mail becomes leads and messages.</EmptyState>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this mailbox?"
        confirmLabel="Delete"
        isLoading={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.id, {
            onSuccess: () => toast.success('Mailbox deleted.'),
            onError: (error) => toast.error(errorMessage(error)),
            onSettled: () => setDeleting(null),
          })
        }
      >
        <p>{deleting?.address} stops being synced. Messages already synced stay.</p>
      </ConfirmDialog>
    </div>
  );
}

export default function EmailSettingsRoute() {
  const user = useUser().data;
  const allowed = hasRole(user, 'admin') && Boolean(user?.business_id);
  return (
    <SettingsSection id="email" title="Email" description="The mailboxes your leads write to.">
      {allowed ? <Accounts /> : <p className="muted">Only owners and admins of a business manage its mailboxes.</p>}
    </SettingsSection>
  );
}
