// The lead's history: calls and messages, newest first (GET /api/leads/{id}/timeline).
import { Link } from 'react-router';

import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { paths } from '@/config/paths';
import { formatDateTime, formatDuration, humanize } from '@/utils/format';

import { useLeadTimeline } from '../api/get-lead-timeline';
import type { TimelineItem } from '../api/types';

const CHANNEL: Record<string, { label: string; marker: string }> = {
  call: { label: 'Call', marker: '☏' },
  whatsapp: { label: 'WhatsApp', marker: 'W' },
  email: { label: 'Email', marker: '@' },
};

function Item({ item }: { item: TimelineItem }) {
  const channel = CHANNEL[item.channel ?? (item.kind === 'call' ? 'call' : 'whatsapp')] ?? { label: humanize(item.channel ?? item.kind), marker: '·' };
  const inbound = item.direction === 'inbound' || item.direction === 'in';
  return (
    <li className={`timeline-item ${inbound ? 'timeline-caller' : 'timeline-agent'}`}>
      <span className="timeline-marker" aria-hidden>
        {channel.marker}
      </span>
      <div className="timeline-bubble">
        <div className="row small" style={{ gap: 8 }}>
          <strong>
            {channel.label}
            {item.direction ? ` · ${inbound ? 'from the lead' : 'to the lead'}` : ''}
          </strong>
          {item.status ? <Badge>{humanize(item.status)}</Badge> : null}
          <span className="muted">{formatDateTime(item.at)}</span>
        </div>
        {item.summary ? <p>{item.summary}</p> : null}
        {item.kind === 'call' ? (
          <p className="small">
            {item.duration_seconds != null ? `${formatDuration(item.duration_seconds)} · ` : ''}
            <Link to={paths.call.getHref(item.id)}>{item.has_recording ? 'Listen and read the transcript' : 'Open the call'}</Link>
          </p>
        ) : null}
      </div>
    </li>
  );
}

export function LeadTimeline({ leadId }: { leadId: number }) {
  const timeline = useLeadTimeline(leadId);
  if (timeline.isPending) return <LoadingState label="Loading the history…" />;
  if (timeline.isError) return <ErrorState error={timeline.error} title="Could not load the history" onRetry={() => void timeline.refetch()} />;
  const items = timeline.data.pages.flatMap((page) => page.items);
  if (!items.length) return <EmptyState title="Nothing yet">Calls and messages with this lead will appear here.</EmptyState>;
  return (
    <div className="stack">
      <ol className="timeline" aria-label="History">
        {items.map((item) => (
          <Item key={`${item.kind}-${item.id}`} item={item} />
        ))}
      </ol>
      {timeline.hasNextPage ? (
        <div>
          <Button variant="secondary" isLoading={timeline.isFetchingNextPage} onClick={() => void timeline.fetchNextPage()}>
            Show older
          </Button>
        </div>
      ) : null}
    </div>
  );
}
