import { Link } from 'react-router';

import { Badge } from '@/components/ui/badge';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatDateTime } from '@/utils/format';

import { useConversations } from '../api/get-conversations';

export function ConversationList({ selected }: { selected: number | null }) {
  const conversations = useConversations();
  if (conversations.isPending) return <LoadingState label="Loading conversations…" />;
  if (conversations.isError) {
    return <ErrorState error={conversations.error} title="Could not load the conversations" onRetry={() => void conversations.refetch()} />;
  }
  const items = conversations.data.items;
  if (!items.length) {
    return (
      <EmptyState title="No conversations yet">
        When a lead writes to your WhatsApp number, or you message one, the conversation shows here.
      </EmptyState>
    );
  }
  return (
    <ul className="conversation-list" aria-label="Conversations">
      {items.map(({ lead, last_message: last, unread }) => (
        <li key={lead.id}>
          <Link to={`?lead=${lead.id}`} aria-current={lead.id === selected ? 'page' : undefined}>
            <span className="who">
              <strong>{lead.name || lead.phone_e164}</strong>
              <span className="muted small">
                {last.direction === 'outbound' ? 'You: ' : ''}
                {last.body || '(attachment)'}
              </span>
              <span className="muted small">{formatDateTime(last.created_at)}</span>
            </span>
            {unread > 0 ? (
              <Badge tone="brand">
                {unread}
                <span className="visually-hidden"> unread</span>
              </Badge>
            ) : null}
          </Link>
        </li>
      ))}
    </ul>
  );
}
