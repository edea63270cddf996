import { Link } from 'react-router';

import { Page, PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { Pagination, Table } from '@/components/ui/table';
import { paths } from '@/config/paths';
import { formatDateTime, formatDuration } from '@/utils/format';

import { useCalls } from '../api/get-calls';
import { CallStatusBadge } from '../components/call-status';
import { CallsFilters, useCallFilters } from '../components/calls-filters';

export default function CallsRoute() {
  const [filters, setFilters] = useCallFilters();
  const calls = useCalls(filters);
  const filtered = Boolean(filters.status || filters.direction || filters.lead_id);
  const leadOfFilter = calls.data?.items.find((call) => call.lead_id === filters.lead_id)?.lead;

  return (
    <Page title="Calls">
      <PageHeader title="Calls" description="Every call your receptionist answered or made." />
      <CallsFilters filters={filters} onChange={setFilters} leadLabel={leadOfFilter?.name || leadOfFilter?.phone_e164} />
      {calls.isPending ? (
        <LoadingState label="Loading calls…" />
      ) : calls.isError ? (
        <ErrorState error={calls.error} title="Could not load the calls" onRetry={() => void calls.refetch()} />
      ) : calls.data.items.length === 0 ? (
        <EmptyState
          title={filtered ? 'No calls match these filters' : 'No calls yet'}
          action={
            filtered ? (
              <button type="button" className="btn btn-secondary" onClick={() => setFilters({ status: undefined, direction: undefined, lead_id: undefined })}>
                Clear the filters
              </button>
            ) : undefined
          }
        >
          {filtered ? 'Try another status or direction.' : 'Calls appear here as soon as your number gets one.'}
        </EmptyState>
      ) : (
        <div className="stack" aria-busy={calls.isPlaceholderData}>
          <Table caption="Calls" captionHidden stack>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Caller</th>
                <th scope="col">Direction</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
                <th scope="col">Lead</th>
                <th scope="col">Summary</th>
              </tr>
            </thead>
            <tbody>
              {calls.data.items.map((call) => (
                <tr key={call.id}>
                  <td data-label="When">
                    <Link to={paths.call.getHref(call.id)}>{formatDateTime(call.started_at ?? call.created_at)}</Link>
                  </td>
                  <td className="mono" data-label="Caller">{call.direction === 'inbound' ? call.from : call.to}</td>
                  <td data-label="Direction">{call.direction === 'inbound' ? 'Inbound' : 'Outbound'}</td>
                  <td data-label="Status">
                    <CallStatusBadge status={call.status} />
                  </td>
                  <td data-label="Duration">{formatDuration(call.duration_seconds)}</td>
                  <td data-label="Lead">{call.lead ? <Link to={paths.lead.getHref(call.lead.id)}>{call.lead.name || call.lead.phone_e164}</Link> : '—'}</td>
                  <td className="wrap muted" data-label="Summary" data-empty={!call.summary}>{call.summary || '—'}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pagination page={calls.data.page} pages={calls.data.pages} total={calls.data.total} noun="calls" onPage={(page) => setFilters({ page })} />
        </div>
      )}
    </Page>
  );
}
