// The dashboard: GET /api/dashboard once, then live from GET /api/events (no polling). A lost
// stream reconnects with backoff (the header says "Reconnecting…") and refetches the numbers.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';

import { Badge } from '@/components/ui/badge';
import { Page, PageHeader } from '@/components/ui/page-header';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { useEventStream, type StreamStatus } from '@/lib/event-stream';

import { DASHBOARD_QUERY_KEY, useDashboard, type Dashboard } from '../api/get-dashboard';
import { DashboardView } from '../components/dashboard-view';
import { applyEvent, applyToLiveCalls, type LiveCall, type LiveEvent } from '../live';

function StreamBadge({ status }: { status: StreamStatus }) {
  if (status === 'open')
    return (
      <Badge tone="ok">
        <span className="dot live-dot" aria-hidden /> Live
      </Badge>
    );
  return <Badge tone="warn">{status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}</Badge>;
}

export default function DashboardRoute({ actions }: { actions?: ReactNode }) {
  const queryClient = useQueryClient();
  const dashboard = useDashboard();
  const [liveCalls, setLiveCalls] = useState<LiveCall[]>([]);

  const apply = (event: LiveEvent) => {
    const now = Date.now();
    queryClient.setQueryData<Dashboard>(DASHBOARD_QUERY_KEY, (data) => (data ? applyEvent(data, event, now) : data));
    setLiveCalls((calls) => applyToLiveCalls(calls, event, now));
  };

  const status = useEventStream(
    '/api/events',
    {
      call_started: (d) => apply({ type: 'call_started', call_sid: d.call_sid ?? '', ts: d.ts, instance: d.instance }),
      call_ended: (d) => apply({ type: 'call_ended', call_sid: d.call_sid ?? '', reason: d.reason }),
      rejected: (d) => apply({ type: 'rejected', call_sid: d.call_sid, reason: d.reason }),
      whatsapp_state: (d) => d.state && apply({ type: 'whatsapp_state', state: d.state }),
    },
    {
      // Events missed while disconnected are not replayed: take the server's numbers again.
      onOpen: (reconnected) => {
        if (reconnected) void queryClient.invalidateQueries({ queryKey: DASHBOARD_QUERY_KEY });
      },
    },
  );

  return (
    <Page title="Dashboard">
      <PageHeader
        title="Dashboard"
        description={
          <span className="row" style={{ gap: 8 }} role="status">
            Your receptionist, live. <StreamBadge status={status} />
          </span>
        }
        actions={actions}
      />
      {dashboard.isPending ? (
        <LoadingState label="Loading the dashboard…" />
      ) : dashboard.isError ? (
        <ErrorState error={dashboard.error} title="Could not load the dashboard" onRetry={() => void dashboard.refetch()} />
      ) : (
        <DashboardView data={dashboard.data} liveCalls={liveCalls} />
      )}
    </Page>
  );
}
