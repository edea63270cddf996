// Settings → WhatsApp. "Re-connect" restarts the business's WhatsApp session; the QR code and the
// session's state are built by another helper (see the commit that created this module).
import { Button } from '@/components/ui/button';
import { errorMessage } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';

import { useReconnectWhatsApp } from '../api/reconnect-whatsapp';

export default function WhatsAppSettingsRoute() {
  const reconnect = useReconnectWhatsApp({ onSuccess: () => toast.success('Re-connecting WhatsApp…') });
  return (
    <section className="card stack" aria-labelledby="settings-whatsapp">
      <div>
        <h2 id="settings-whatsapp">WhatsApp</h2>
        <p className="muted">The phone your business sends WhatsApp messages from.</p>
      </div>
      {reconnect.isError ? (
        <div className="alert alert-error" role="alert">
          {errorMessage(reconnect.error)}
        </div>
      ) : null}
      <div>
        <Button onClick={() => reconnect.mutate()} isLoading={reconnect.isPending}>
          Re-connect
        </Button>
      </div>
    </section>
  );
}
