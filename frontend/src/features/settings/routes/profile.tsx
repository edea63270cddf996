// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function ProfileSettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-profile">
      <div>
        <h2 id="settings-profile">Profile</h2>
        <p className="muted">Your name, email and password.</p>
      </div>
    </section>
  );
}
