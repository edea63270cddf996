// One conversation: its messages (oldest at the top), marked read when opened, and the reply box.
// A reply shows at once; when the server refuses it, it stays on screen marked failed, with the
// reason and a retry (same Idempotency-Key, so it is never sent twice).
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { Button } from '@/components/ui/button';
import { TextareaField } from '@/components/ui/field';
import { EmptyState, ErrorState, errorMessage, LoadingState } from '@/components/ui/states';
import { formatDateTime, humanize } from '@/utils/format';

import { useConversations } from '../api/get-conversations';
import { useMessages } from '../api/get-messages';
import { useMarkRead } from '../api/mark-read';
import { newMessageKey, useSendMessage } from '../api/send-message';
import type { WhatsAppMessage } from '../api/types';

const replySchema = z.object({
  text: z.string().trim().min(1, 'Write a message first').max(4096, 'A message has at most 4096 characters'),
});
type Reply = z.infer<typeof replySchema>;

type Outgoing = { key: string; text: string; at: string; state: 'sending' | 'failed'; error?: unknown };

function Bubble({ message }: { message: WhatsAppMessage }) {
  return (
    <li className={`bubble ${message.direction}`}>
      {message.body || <em className="muted">(attachment)</em>}
      <span className="meta">
        {formatDateTime(message.created_at)}
        {message.direction === 'outbound' ? ` · ${humanize(message.status)}` : ''}
      </span>
    </li>
  );
}

export function Thread({ leadId }: { leadId: number }) {
  const messages = useMessages(leadId);
  const conversation = useConversations().data?.items.find((c) => c.lead.id === leadId);
  const markRead = useMarkRead();
  const send = useSendMessage();
  const [outbox, setOutbox] = useState<Outgoing[]>([]);
  const list = useRef<HTMLDivElement>(null);
  const form = useForm<Reply>({ resolver: zodResolver(replySchema), defaultValues: { text: '' } });

  const unread = conversation?.unread ?? 0;
  const { mutate: markReadNow } = markRead;
  useEffect(() => {
    if (unread > 0) markReadNow(leadId);
  }, [leadId, unread, markReadNow]);

  const count = (messages.data?.items.length ?? 0) + outbox.length;
  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [count]);

  const deliver = (item: Outgoing) => {
    setOutbox((items) => [...items.filter((o) => o.key !== item.key), { ...item, state: 'sending', error: undefined }]);
    send.mutate(
      { leadId, text: item.text, key: item.key },
      {
        onSuccess: () => setOutbox((items) => items.filter((o) => o.key !== item.key)),
        onError: (error) =>
          setOutbox((items) => items.map((o) => (o.key === item.key ? { ...o, state: 'failed', error } : o))),
      },
    );
  };

  const onSubmit = form.handleSubmit(({ text }) => {
    deliver({ key: newMessageKey(), text, at: new Date().toISOString(), state: 'sending' });
    form.reset({ text: '' });
  });

  const title = conversation ? conversation.lead.name || conversation.lead.phone_e164 : `Lead ${leadId}`;
  let body;
  if (messages.isPending) body = <LoadingState label="Loading messages…" />;
  else if (messages.isError) body = <ErrorState error={messages.error} title="Could not load the messages" onRetry={() => void messages.refetch()} />;
  else if (!messages.data.items.length && !outbox.length) body = <EmptyState title="No messages yet">Write the first one below.</EmptyState>;
  else {
    body = (
      <div ref={list} className="thread-scroll" tabIndex={0} role="region" aria-label={`Messages with ${title}`}>
      <ol className="thread">
        {[...messages.data.items].reverse().map((m) => (
          <Bubble key={m.id} message={m} />
        ))}
        {outbox.map((o) => (
          <li key={o.key} className={`bubble outbound${o.state === 'failed' ? ' failed' : ''}`} data-testid="outgoing">
            {o.text}
            {o.state === 'sending' ? (
              <span className="meta">Sending…</span>
            ) : (
              <span className="meta" role="alert">
                Not sent: {errorMessage(o.error)}{' '}
                <Button size="sm" variant="ghost" onClick={() => deliver(o)}>
                  Retry
                </Button>
                <Button size="sm" variant="ghost" onClick={() => setOutbox((items) => items.filter((x) => x.key !== o.key))}>
                  Discard
                </Button>
              </span>
            )}
          </li>
        ))}
      </ol>
      </div>
    );
  }

  return (
    <section className="card stack" aria-labelledby="thread-title">
      <div className="card-header">
        <h2 id="thread-title">{title}</h2>
        {conversation ? <span className="muted small">{conversation.lead.phone_e164}</span> : null}
      </div>
      {body}
      <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate>
        <TextareaField
          label="Reply"
          rows={3}
          error={form.formState.errors.text?.message}
          hint="Enter sends; Shift+Enter starts a new line."
          {...form.register('text')}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
              event.preventDefault();
              void onSubmit();
            }
          }}
        />
        <div className="row">
          <Button type="submit">Send</Button>
        </div>
      </form>
    </section>
  );
}
