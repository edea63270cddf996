// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function PhoneSettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-phone">
      <div>
        <h2 id="settings-phone">Phone</h2>
        <p className="muted">The number your callers dial.</p>
      </div>
    </section>
  );
}
