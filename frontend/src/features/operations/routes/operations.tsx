// Operations (system admins only; everyone else gets a 403 page): the cluster overview, read
// again every few seconds, and the dead-letter jobs with requeue and purge.
import { Button } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { isApiError } from '@/lib/api-client';
import { useUser } from '@/lib/auth';
import { formatTime } from '@/utils/format';

import { useOverview } from '../api/get-overview';
import { DeadLetters } from '../components/dead-letters';
import { Overview } from '../components/overview';

import '@/styles/features.css';

function Forbidden() {
  return (
    <div className="card" role="alert">
      <EmptyState title="403 — system administrators only">
        Operations shows every business’s infrastructure. Ask a system administrator if you need something here.
      </EmptyState>
    </div>
  );
}

export default function OperationsRoute() {
  const user = useUser().data;
  const allowed = user?.role === 'system_admin';
  const overview = useOverview(allowed);
  const forbidden = !allowed || isApiError(overview.error, 403);
  return (
    <Page title="Operations">
      <PageHeader
        title="Operations"
        description="Instances, queues, workers and dead letters."
        actions={
          forbidden ? null : (
            <>
              {overview.data?.generated_at ? <span className="muted small">As of {formatTime(overview.data.generated_at)}</span> : null}
              <Button variant="secondary" size="sm" isLoading={overview.isFetching} onClick={() => void overview.refetch()}>
                Refresh
              </Button>
            </>
          )
        }
      />
      {forbidden ? (
        <Forbidden />
      ) : (
        <div className="stack">
          {overview.isPending ? (
            <LoadingState label="Loading the overview…" />
          ) : overview.isError && !overview.data ? (
            <ErrorState error={overview.error} title="Could not load the overview" onRetry={() => void overview.refetch()} />
          ) : (
            <>
              {overview.isError ? (
                <div className="alert alert-warn" role="status">
                  The last refresh failed; these numbers may be out of date.
                </div>
              ) : null}
              <Overview data={overview.data} />
            </>
          )}
          <DeadLetters />
        </div>
      )}
    </Page>
  );
}
