// Settings → WhatsApp: the session's state (live) and "Re-connect", which starts a new session and
// shows the QR code to scan (the operator runbook's "business settings → WhatsApp → Re-connect").
import { toast } from '@/components/ui/toast';
import { WhatsAppSession } from '@/components/whatsapp/whatsapp-session';

import { useReconnectWhatsApp } from '../api/reconnect-whatsapp';

export default function WhatsAppSettingsRoute() {
  const reconnect = useReconnectWhatsApp({
    onSuccess: (session) =>
      toast.success(session.state === 'connected' ? 'WhatsApp is connected.' : 'Re-connecting WhatsApp: scan the QR code.'),
  });
  return (
    <section className="card stack" aria-labelledby="settings-whatsapp">
      <div>
        <h2 id="settings-whatsapp">WhatsApp</h2>
        <p className="muted">
          The phone your business sends WhatsApp messages from. Re-connect when WhatsApp logged the device out or the
          phone changed: a new QR code appears here to scan.
        </p>
      </div>
      <WhatsAppSession
        connectLabel="Re-connect"
        onConnect={() => reconnect.mutate()}
        isConnecting={reconnect.isPending}
        connectError={reconnect.error}
      />
    </section>
  );
}
