// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function EmailSettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-email">
      <div>
        <h2 id="settings-email">Email</h2>
        <p className="muted">The mailboxes your leads write to.</p>
      </div>
    </section>
  );
}
