// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function WebhookSettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-webhook">
      <div>
        <h2 id="settings-webhook">Webhook</h2>
        <p className="muted">Where call and lead events are sent.</p>
      </div>
    </section>
  );
}
