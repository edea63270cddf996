// The business's WhatsApp session: its state (live), the phone it is linked to, and — while it
// waits for a scan — the QR code. `connectLabel` names the button ("Connect", "Re-connect").
import type { ReactNode } from 'react';

import '@/styles/features.css';

import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { QrCode } from '@/components/ui/qr-code';
import { ErrorState, errorMessage, LoadingState } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';
import { useUser } from '@/lib/auth';
import {
  useConnectWhatsApp,
  useLiveWhatsAppState,
  useWhatsAppQr,
  useWhatsAppStatus,
  type WhatsAppState,
  type WhatsAppStatus,
} from '@/lib/whatsapp-session';
import { formatDateTime, formatTime } from '@/utils/format';

const STATE: Record<WhatsAppState, { label: string; tone: Tone }> = {
  connected: { label: 'Connected', tone: 'ok' },
  qr: { label: 'Waiting for scan', tone: 'info' },
  starting: { label: 'Starting', tone: 'info' },
  stopped: { label: 'Stopped', tone: 'neutral' },
  logged_out: { label: 'Logged out', tone: 'warn' },
  failed: { label: 'Failed', tone: 'danger' },
  unknown: { label: 'Unknown', tone: 'neutral' },
};

export function WhatsAppStateBadge({ state }: { state: WhatsAppState }) {
  const known = (STATE as Partial<Record<string, (typeof STATE)[WhatsAppState]>>)[state] ?? STATE.unknown;
  return <Badge tone={known.tone}>{known.label}</Badge>;
}

function QrPanel({ initial }: { initial: string | null | undefined }) {
  const qr = useWhatsAppQr(true);
  const value = qr.data?.qr ?? initial ?? null;
  if (value) {
    return (
      <figure className="qr-panel stack">
        <QrCode value={value} label="WhatsApp QR code: scan it with the business's phone" />
        <figcaption className="small">
          On the business's phone open WhatsApp → Settings → Linked devices → Link a device, and scan this code.
          {qr.data ? <span className="muted"> It renews itself (this one until {formatTime(qr.data.expires_at)}).</span> : null}
        </figcaption>
      </figure>
    );
  }
  if (qr.isError) return <ErrorState error={qr.error} title="Could not load the QR code" onRetry={() => void qr.refetch()} />;
  return <LoadingState label="Waiting for the QR code…" />;
}

function Details({ status }: { status: WhatsAppStatus }) {
  return (
    <dl className="details">
      <dt>State</dt>
      <dd>
        <WhatsAppStateBadge state={status.state} />
        {status.reason ? <span className="muted small"> {status.reason}</span> : null}
      </dd>
      <dt>Phone</dt>
      <dd>{status.me?.phone ?? '—'}</dd>
      <dt>Updated</dt>
      <dd>{formatDateTime(status.updated_at)}</dd>
      {status.limited_until ? (
        <>
          <dt>New contacts limited until</dt>
          <dd>{formatDateTime(status.limited_until)}</dd>
        </>
      ) : null}
    </dl>
  );
}

export function WhatsAppSession({
  connectLabel,
  onConnect,
  isConnecting = false,
  connectError = null,
  footer,
}: {
  connectLabel: string;
  /** Starts the session; by default POST /api/whatsapp/connect. */
  onConnect?: () => void;
  isConnecting?: boolean;
  connectError?: unknown;
  footer?: ReactNode;
}) {
  const user = useUser().data;
  const status = useWhatsAppStatus();
  const connect = useConnectWhatsApp({ onSuccess: () => toast.success('WhatsApp is starting: scan the QR code when it appears.') });
  useLiveWhatsAppState(user?.business_id);
  const canConnect = user?.role !== 'agent';
  const busy = onConnect ? isConnecting : connect.isPending;
  const failure: unknown = onConnect ? connectError : connect.error;

  const session = status.data;
  // The button is there whatever the state read gave: re-connecting is the way out of a stuck session.
  return (
    <div className="stack" aria-live="polite">
      {status.isPending ? <LoadingState label="Loading the WhatsApp session…" /> : null}
      {status.isError ? (
        <ErrorState error={status.error} title="Could not load the WhatsApp session" onRetry={() => void status.refetch()} />
      ) : null}
      {session && !session.gateway_reachable ? (
        <div className="alert alert-warn" role="status">
          The WhatsApp gateway cannot be reached right now{session.detail ? ` (${session.detail})` : ''}; this is the
          last state it reported.
        </div>
      ) : null}
      {session ? <Details status={session} /> : null}
      {session?.state === 'qr' ? <QrPanel initial={session.qr} /> : null}
      {session?.state === 'starting' ? <LoadingState label="Starting WhatsApp; the QR code follows…" /> : null}
      {failure ? (
        <div className="alert alert-error" role="alert">
          {errorMessage(failure)}
        </div>
      ) : null}
      {canConnect ? (
        <div className="row">
          <Button onClick={() => (onConnect ? onConnect() : connect.mutate())} isLoading={busy}>
            {connectLabel}
          </Button>
          {footer}
        </div>
      ) : (
        <p className="muted small">Ask an admin of your business to connect WhatsApp.</p>
      )}
    </div>
  );
}
