// Broadcasts: the list with each one's progress, and a new one from a lead filter.
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';

import { Button } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { Pagination, Table } from '@/components/ui/table';
import { toast } from '@/components/ui/toast';
import { paths } from '@/config/paths';
import { formatDateTime } from '@/utils/format';

import { useBroadcasts } from '../api/get-broadcasts';
import { BroadcastStatusBadge, ProgressBar } from '../components/broadcast-status';
import { CreateBroadcastForm } from '../components/create-broadcast-form';

import '@/styles/features.css';

function BroadcastList({ page, onPage }: { page: number; onPage: (page: number) => void }) {
  const broadcasts = useBroadcasts(page);
  if (broadcasts.isPending) return <LoadingState label="Loading broadcasts…" />;
  if (broadcasts.isError) {
    return <ErrorState error={broadcasts.error} title="Could not load the broadcasts" onRetry={() => void broadcasts.refetch()} />;
  }
  const { items, pages, total } = broadcasts.data;
  if (!items.length) {
    return <EmptyState title="No broadcasts yet">Send one message to many leads at once: start with “New broadcast”.</EmptyState>;
  }
  return (
    <>
      <Table caption="Broadcasts" captionHidden>
        <thead>
          <tr>
            <th scope="col">Broadcast</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {items.map((b) => (
            <tr key={b.id}>
              <td>
                <Link to={paths.broadcast.getHref(b.id)}>{b.name || `Broadcast #${b.id}`}</Link>
                <div className="muted small">{b.text.length > 60 ? `${b.text.slice(0, 60)}…` : b.text}</div>
              </td>
              <td>
                <BroadcastStatusBadge status={b.status} />
              </td>
              <td style={{ minWidth: 140 }}>
                <span className="small">
                  {b.progress.sent} / {b.progress.total} sent
                  {b.progress.failed ? `, ${b.progress.failed} failed` : ''}
                </span>
                <ProgressBar progress={b.progress} />
              </td>
              <td>{formatDateTime(b.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Pagination page={page} pages={pages} total={total} onPage={onPage} noun="broadcasts" />
    </>
  );
}

export default function BroadcastsRoute() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(params.get('new') === '1');
  const page = Math.max(1, Number(params.get('page')) || 1);
  return (
    <Page title="Broadcasts">
      <PageHeader
        title="Broadcasts"
        description="Messages sent to many leads at once."
        actions={
          creating ? null : (
            <Button onClick={() => setCreating(true)} aria-controls="new-broadcast-card">
              New broadcast
            </Button>
          )
        }
      />
      <div className="stack">
        {creating ? (
          <section className="card" id="new-broadcast-card">
            <CreateBroadcastForm
              onCreated={(broadcast) => {
                toast.success('Broadcast created.');
                void navigate(paths.broadcast.getHref(broadcast.id));
              }}
            />
            <Button variant="ghost" onClick={() => setCreating(false)}>
              Close
            </Button>
          </section>
        ) : null}
        <section className="card">
          <BroadcastList page={page} onPage={(next) => setParams({ page: String(next) })} />
        </section>
      </div>
    </Page>
  );
}
