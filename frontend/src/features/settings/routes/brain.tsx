// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function BrainSettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-brain">
      <div>
        <h2 id="settings-brain">Brain</h2>
        <p className="muted">How the receptionist thinks and answers.</p>
      </div>
    </section>
  );
}
