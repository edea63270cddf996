// Settings tab route module; the form is built by another helper (see the commit that created it).
export default function CapacitySettingsRoute() {
  return (
    <section className="card stack" aria-labelledby="settings-capacity">
      <div>
        <h2 id="settings-capacity">Capacity</h2>
        <p className="muted">How many calls are answered at once.</p>
      </div>
    </section>
  );
}
