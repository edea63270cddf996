// Dead-letter jobs: requeue or purge one, each after a confirmation.
import { useState } from 'react';

import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { EmptyState, ErrorState, errorMessage, LoadingState } from '@/components/ui/states';
import { Pagination, Table } from '@/components/ui/table';
import { toast } from '@/components/ui/toast';
import { formatDateTime } from '@/utils/format';

import { useDeadLetters, type DeadLetter } from '../api/get-dead-letters';
import { usePurgeDeadLetter } from '../api/purge-dead-letter';
import { useRequeueDeadLetter } from '../api/requeue-dead-letter';

type Pending = { job: DeadLetter; action: 'requeue' | 'purge' } | null;

export function DeadLetters() {
  const [page, setPage] = useState(1);
  const [pending, setPending] = useState<Pending>(null);
  const letters = useDeadLetters(page, true);
  const requeue = useRequeueDeadLetter();
  const purge = usePurgeDeadLetter();

  const confirm = () => {
    if (!pending) return;
    const { job, action } = pending;
    const done = { onSettled: () => setPending(null), onError: (error: unknown) => toast.error(errorMessage(error)) };
    if (action === 'requeue') {
      requeue.mutate(job.id, { ...done, onSuccess: (r) => toast.success(`Requeued on ${r.queue}.`) });
    } else {
      purge.mutate(job.id, { ...done, onSuccess: () => toast.success('Purged.') });
    }
  };

  let body;
  if (letters.isPending) body = <LoadingState label="Loading dead letters…" />;
  else if (letters.isError) body = <ErrorState error={letters.error} title="Could not load the dead letters" onRetry={() => void letters.refetch()} />;
  else if (!letters.data.items.length) body = <EmptyState title="No dead letters">Every job either ran or is still retrying.</EmptyState>;
  else {
    body = (
      <>
        <Table caption="Dead-letter jobs" captionHidden>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Queue</th>
              <th scope="col">Why</th>
              <th scope="col">Failed</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {letters.data.items.map((job) => (
              <tr key={job.id}>
                <td>
                  <code>{job.function}</code>
                  <div className="muted small">{job.id}</div>
                </td>
                <td>{job.queue}</td>
                <td className="small">
                  {job.error ? <Badge tone="danger">{job.error}</Badge> : null} {job.reason}
                </td>
                <td>{job.failed_at === '?' ? 'Unknown' : formatDateTime(job.failed_at)}</td>
                <td>
                  <div className="row" style={{ flexWrap: 'nowrap' }}>
                    <Button size="sm" variant="secondary" aria-label={`Requeue ${job.id}`} onClick={() => setPending({ job, action: 'requeue' })}>
                      Requeue
                    </Button>
                    <Button size="sm" variant="danger" aria-label={`Purge ${job.id}`} onClick={() => setPending({ job, action: 'purge' })}>
                      Purge
                    </Button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
        <Pagination page={page} pages={letters.data.pages} total={letters.data.total} onPage={setPage} noun="dead letters" />
      </>
    );
  }

  return (
    <section className="card stack" aria-labelledby="dead-letters-title">
      <h2 id="dead-letters-title">Dead letters</h2>
      {body}
      <ConfirmDialog
        open={pending !== null}
        title={pending?.action === 'purge' ? 'Purge this job?' : 'Requeue this job?'}
        confirmLabel={pending?.action === 'purge' ? 'Purge' : 'Requeue'}
        danger={pending?.action === 'purge'}
        isLoading={requeue.isPending || purge.isPending}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        {pending ? (
          <p>
            <code>{pending.job.function}</code> ({pending.job.id}) on {pending.job.queue}:{' '}
            {pending.action === 'purge'
              ? 'it is deleted for good and never runs. This cannot be undone.'
              : 'it runs again with fresh retries. Make sure what made it fail is fixed.'}
          </p>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}
