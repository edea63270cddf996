// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function GreetingSettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-greeting">
      <div>
        <h2 id="settings-greeting">Greeting</h2>
        <p className="muted">What the receptionist says first.</p>
      </div>
    </section>
  );
}
