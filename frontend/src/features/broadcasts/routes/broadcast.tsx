// One broadcast: its message, its progress (sent, failed, skipped, pending; read again every few
// seconds while it sends) and the actions its status allows.
import { useParams } from 'react-router';

import { ButtonLink } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { paths } from '@/config/paths';
import { formatDateTime } from '@/utils/format';

import { useBroadcast } from '../api/get-broadcast';
import type { Broadcast } from '../api/types';
import { BroadcastActions } from '../components/broadcast-actions';
import { BroadcastStatusBadge, ProgressBar } from '../components/broadcast-status';

import '@/styles/features.css';

const NUMBERS = [
  ['sent', 'Sent'],
  ['failed', 'Failed'],
  ['skipped', 'Skipped'],
  ['pending', 'Pending'],
] as const;

function Detail({ broadcast }: { broadcast: Broadcast }) {
  const { progress } = broadcast;
  return (
    <div className="stack">
      <section className="card stack" aria-labelledby="progress-title">
        <div className="card-header">
          <h2 id="progress-title">Progress</h2>
          <BroadcastStatusBadge status={broadcast.status} />
        </div>
        <ProgressBar progress={progress} />
        <div className="grid grid-4">
          {NUMBERS.map(([key, label]) => (
            <div key={key}>
              <div className="stat-label">{label}</div>
              <div className="stat-value" data-testid={`progress-${key}`}>
                {progress[key]}
              </div>
            </div>
          ))}
        </div>
        <p className="muted small">
          {progress.total} recipients · skipped: opted out, or cancelled before their turn.
          {broadcast.status === 'running' ? ' Updates every few seconds.' : ''}
        </p>
        <BroadcastActions broadcast={broadcast} />
      </section>
      <section className="card stack" aria-labelledby="message-title">
        <h2 id="message-title">Message</h2>
        <p style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{broadcast.text}</p>
        <dl className="details">
          <dt>Attachment</dt>
          <dd>{broadcast.attachment_id ? `#${broadcast.attachment_id}` : 'None'}</dd>
          <dt>Created</dt>
          <dd>{formatDateTime(broadcast.created_at)}</dd>
          <dt>Started</dt>
          <dd>{formatDateTime(broadcast.started_at)}</dd>
          <dt>Finished</dt>
          <dd>{formatDateTime(broadcast.finished_at)}</dd>
        </dl>
      </section>
    </div>
  );
}

export default function BroadcastRoute() {
  const id = Number(useParams().id);
  const valid = Number.isInteger(id) && id > 0;
  const broadcast = useBroadcast(valid ? id : 0);
  const title = broadcast.data ? broadcast.data.name || `Broadcast #${broadcast.data.id}` : 'Broadcast';
  return (
    <Page title={title}>
      <PageHeader
        title={title}
        description="Progress and recipients of one broadcast."
        actions={<ButtonLink to={paths.broadcasts.getHref()}>All broadcasts</ButtonLink>}
      />
      {broadcast.isPending ? (
        <LoadingState label="Loading the broadcast…" />
      ) : broadcast.isError ? (
        <ErrorState error={broadcast.error} title="Could not load this broadcast" onRetry={() => void broadcast.refetch()} />
      ) : (
        <Detail broadcast={broadcast.data} />
      )}
    </Page>
  );
}
