import { useParams } from 'react-router';

import { Button, ButtonLink } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { errorMessage, ErrorState, LoadingState } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';
import { paths } from '@/config/paths';
import { formatDateTime, humanize } from '@/utils/format';

import { useCallLead } from '../api/call-lead';
import { useLead } from '../api/get-lead';
import { LeadForm } from '../components/lead-form';
import { LeadStatusBadge } from '../components/lead-status';
import { LeadTimeline } from '../components/lead-timeline';

export default function LeadRoute() {
  const id = Number(useParams().id);
  if (!Number.isInteger(id) || id < 1) {
    return (
      <Page title="Lead">
        <ErrorState error={null} title="There is no such lead" />
      </Page>
    );
  }
  return <LeadView id={id} />;
}

function LeadView({ id }: { id: number }) {
  const lead = useLead(id);
  const dial = useCallLead({
    onSuccess: () => toast.success('Calling… the receptionist talks when they answer.'),
  });
  return (
    <Page title={lead.data?.name || 'Lead'}>
      {lead.isPending ? (
        <LoadingState label="Loading the lead…" />
      ) : lead.isError ? (
        <ErrorState error={lead.error} title="Could not load this lead" onRetry={() => void lead.refetch()} />
      ) : (
        <>
          <PageHeader
            title={lead.data.name || lead.data.phone_e164}
            description={
              <span className="row" style={{ gap: 8 }}>
                <LeadStatusBadge status={lead.data.status} />
                {humanize(lead.data.source)} lead since {formatDateTime(lead.data.created_at)}
              </span>
            }
            actions={
              <>
                <Button
                  isLoading={dial.isPending}
                  onClick={() =>
                    dial.mutate(lead.data.id, { onError: (error) => toast.error(`Could not call: ${errorMessage(error)}`) })
                  }
                >
                  Call now
                </Button>
                <ButtonLink to={`${paths.calls.getHref()}?lead_id=${lead.data.id}`}>Calls</ButtonLink>
                <ButtonLink to={paths.leads.getHref()}>All leads</ButtonLink>
              </>
            }
          />
          <div className="grid lead-layout">
            <section className="card" aria-labelledby="lead-history">
              <h2 id="lead-history" style={{ marginBottom: 12 }}>
                History
              </h2>
              <LeadTimeline leadId={lead.data.id} />
            </section>
            <section className="card" aria-labelledby="lead-details">
              <h2 id="lead-details" style={{ marginBottom: 12 }}>
                Details
              </h2>
              <LeadForm lead={lead.data} />
            </section>
          </div>
        </>
      )}
    </Page>
  );
}
