import { Link } from 'react-router';

import { ButtonLink } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { Pagination, Table } from '@/components/ui/table';
import { paths } from '@/config/paths';
import { apiUrl } from '@/lib/api-client';
import { formatDateTime, humanize } from '@/utils/format';

import { useLeads } from '../api/get-leads';
import { LeadStatusBadge } from '../components/lead-status';
import { LeadsFilters, useLeadFilters } from '../components/leads-filters';

export default function LeadsRoute() {
  const [filters, setFilters] = useLeadFilters();
  const leads = useLeads(filters);
  const filtered = Boolean(filters.q || filters.status || filters.source);
  const exportHref = apiUrl('/api/leads/export.csv', { q: filters.q, status: filters.status, source: filters.source });

  return (
    <Page title="Leads">
      <PageHeader
        title="Leads"
        description="Everyone who called or wrote."
        actions={
          <>
            <ButtonLink to={paths.leadsBoard.getHref()}>Board</ButtonLink>
            <a className="btn btn-secondary" href={exportHref} download>
              Export CSV
            </a>
          </>
        }
      />
      <LeadsFilters filters={filters} onChange={setFilters} />
      {leads.isPending ? (
        <LoadingState label="Loading leads…" />
      ) : leads.isError ? (
        <ErrorState error={leads.error} title="Could not load the leads" onRetry={() => void leads.refetch()} />
      ) : leads.data.items.length === 0 ? (
        <EmptyState
          title={filtered ? 'No leads match' : 'No leads yet'}
          action={
            filtered ? (
              <button type="button" className="btn btn-secondary" onClick={() => setFilters({ q: undefined, status: undefined, source: undefined })}>
                Clear the search and filters
              </button>
            ) : undefined
          }
        >
          {filtered ? 'Try another search or filter.' : 'Leads appear here when someone calls or writes.'}
        </EmptyState>
      ) : (
        <div className="stack" aria-busy={leads.isPlaceholderData}>
          <Table caption="Leads" captionHidden stack>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Phone</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col">Last contact</th>
              </tr>
            </thead>
            <tbody>
              {leads.data.items.map((lead) => (
                <tr key={lead.id}>
                  <td data-label="Name">
                    <Link to={paths.lead.getHref(lead.id)}>{lead.name || 'Unnamed lead'}</Link>
                  </td>
                  <td className="mono" data-label="Phone">
                    {lead.phone_e164}
                  </td>
                  <td data-label="Email" data-empty={!lead.email}>
                    {lead.email || '—'}
                  </td>
                  <td data-label="Status">
                    <LeadStatusBadge status={lead.status} />
                  </td>
                  <td data-label="Source">{humanize(lead.source)}</td>
                  <td data-label="Last contact">{formatDateTime(lead.last_contact_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pagination page={leads.data.page} pages={leads.data.pages} total={leads.data.total} noun="leads" onPage={(page) => setFilters({ page })} />
        </div>
      )}
    </Page>
  );
}
