// Start, pause, resume and cancel, as the broadcast's status allows; cancelling asks first.
import { useState } from 'react';

import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { errorMessage } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';

import { useBroadcastAction } from '../api/broadcast-action';
import { ALLOWED, type Broadcast, type BroadcastAction } from '../api/types';

const LABEL: Record<BroadcastAction, string> = { start: 'Start sending', pause: 'Pause', resume: 'Resume', cancel: 'Cancel broadcast' };
const DONE: Record<BroadcastAction, string> = { start: 'Sending started.', pause: 'Paused.', resume: 'Sending resumed.', cancel: 'Broadcast cancelled.' };

export function BroadcastActions({ broadcast }: { broadcast: Broadcast }) {
  const action = useBroadcastAction();
  const [confirming, setConfirming] = useState(false);
  const run = (name: BroadcastAction) =>
    action.mutate(
      { id: broadcast.id, action: name },
      {
        onSuccess: (result) => {
          toast.success(DONE[name]);
          if (!result.job_queued) toast.warning('The sender is busy; it picks this up within minutes.');
          setConfirming(false);
        },
        onError: () => setConfirming(false),
      },
    );
  const allowed = ALLOWED[broadcast.status];
  if (!allowed.length) return null;
  const pending = action.isPending ? action.variables.action : null;
  return (
    <div className="stack">
      <div className="row">
        {allowed.map((name) => (
          <Button
            key={name}
            variant={name === 'cancel' ? 'danger' : name === 'pause' ? 'secondary' : 'primary'}
            isLoading={pending === name}
            disabled={pending !== null}
            onClick={() => (name === 'cancel' ? setConfirming(true) : run(name))}
          >
            {LABEL[name]}
          </Button>
        ))}
      </div>
      {action.isError ? (
        <div className="alert alert-error" role="alert">
          {errorMessage(action.error)}
        </div>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Cancel this broadcast?"
        confirmLabel="Cancel broadcast"
        onConfirm={() => run('cancel')}
        onCancel={() => setConfirming(false)}
        isLoading={pending === 'cancel'}
      >
        <p>
          The {broadcast.progress.pending} recipients not sent yet are skipped. Messages already sent stay sent. This
          cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
