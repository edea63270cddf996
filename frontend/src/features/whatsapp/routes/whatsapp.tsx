// WhatsApp: the session (state, connect with the QR) and the inbox — conversations with unread
// counts, one conversation's messages, and the reply box. The open conversation is ?lead=<id>.
import { useSearchParams } from 'react-router';

import { Page, PageHeader } from '@/components/ui/page-header';
import { EmptyState } from '@/components/ui/states';
import { WhatsAppSession } from '@/components/whatsapp/whatsapp-session';
import { useWhatsAppStatus } from '@/lib/whatsapp-session';

import { ConversationList } from '../components/conversation-list';
import { Thread } from '../components/thread';

import '@/styles/features.css';

function selectedLead(value: string | null): number | null {
  const id = Number(value);
  return value && Number.isInteger(id) && id > 0 ? id : null;
}

export default function WhatsAppRoute() {
  const [params] = useSearchParams();
  const lead = selectedLead(params.get('lead'));
  // The session panel starts open unless WhatsApp is connected (then the inbox is what matters).
  const state = useWhatsAppStatus().data?.state;
  const connected = state === undefined || state === 'connected';
  return (
    <Page title="WhatsApp">
      <PageHeader title="WhatsApp" description="Conversations with your leads." />
      <div className="stack">
        <details key={connected ? 'connected' : 'not-connected'} className="card" open={!connected}>
          <summary>
            <strong>Session</strong> <span className="muted small">— connect, or scan a new QR code</span>
          </summary>
          <div style={{ marginTop: 'var(--space-3)' }}>
            <WhatsAppSession connectLabel="Connect" />
          </div>
        </details>
        <div className="inbox">
          <section className="card" aria-labelledby="conversations-title">
            <h2 id="conversations-title" className="visually-hidden">
              Conversations
            </h2>
            <ConversationList selected={lead} />
          </section>
          {lead ? (
            <Thread key={lead} leadId={lead} />
          ) : (
            <div className="card">
              <EmptyState title="Pick a conversation">Its messages and the reply box show here.</EmptyState>
            </div>
          )}
        </div>
      </div>
    </Page>
  );
}
