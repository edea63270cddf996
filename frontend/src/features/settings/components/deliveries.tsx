// The webhook's deliveries: what was sent where, how it went, and "Redeliver".
import { useState } from 'react';

import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { SelectField } from '@/components/ui/field';
import { EmptyState, ErrorState, errorMessage, LoadingState } from '@/components/ui/states';
import { Pagination, Table } from '@/components/ui/table';
import { toast } from '@/components/ui/toast';
import { formatDateTime, humanize } from '@/utils/format';

import { useDeliveries, type DeliveryStatus } from '../api/get-deliveries';
import { useRedeliver } from '../api/redeliver';

const TONE: Record<DeliveryStatus, Tone> = { pending: 'info', delivered: 'ok', failed: 'danger' };

export function Deliveries() {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const deliveries = useDeliveries({ page, status });
  const redeliver = useRedeliver();

  let body;
  if (deliveries.isPending) body = <LoadingState label="Loading deliveries…" />;
  else if (deliveries.isError) body = <ErrorState error={deliveries.error} title="Could not load the deliveries" onRetry={() => void deliveries.refetch()} />;
  else if (!deliveries.data.items.length) body = <EmptyState title="No deliveries">{status ? 'None with this status.' : 'Events are sent here once a webhook URL is set.'}</EmptyState>;
  else {
    body = (
      <>
        <Table caption="Webhook deliveries" captionHidden>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.items.map((d) => (
              <tr key={d.id}>
                <td>
                  {humanize(d.event)}
                  <div className="muted small">{d.event_id}</div>
                </td>
                <td>
                  <Badge tone={TONE[d.status]}>{humanize(d.status)}</Badge>
                </td>
                <td>{d.attempts}</td>
                <td className="small">{d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || '—'}</td>
                <td>{formatDateTime(d.created_at)}</td>
                <td>
                  {d.status !== 'pending' ? (
                    <Button
                      size="sm"
                      variant="secondary"
                      isLoading={redeliver.isPending && redeliver.variables === d.id}
                      aria-label={`Redeliver ${humanize(d.event)} ${d.event_id}`}
                      onClick={() =>
                        redeliver.mutate(d.id, {
                          onSuccess: () => toast.success('Queued to be sent again.'),
                          onError: (error) => toast.error(errorMessage(error)),
                        })
                      }
                    >
                      Redeliver
                    </Button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
        <Pagination page={page} pages={deliveries.data.pages} total={deliveries.data.total} onPage={setPage} noun="deliveries" />
      </>
    );
  }
  return (
    <section className="stack" aria-labelledby="deliveries-title">
      <div className="card-header">
        <h3 id="deliveries-title">Deliveries</h3>
        <SelectField
          label="Status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as DeliveryStatus | '');
            setPage(1);
          }}
          options={[
            { value: '', label: 'All' },
            { value: 'pending', label: 'Pending' },
            { value: 'delivered', label: 'Delivered' },
            { value: 'failed', label: 'Failed' },
          ]}
        />
      </div>
      {body}
    </section>
  );
}
