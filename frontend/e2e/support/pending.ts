// Pages that are still placeholders on this branch (other helpers are building them). Their
// specs are skipped, and say so; the screenshots spec still saves what the page shows now.
// Take a name out when its page is merged: its spec then runs in CI like the others.
// 'dashboard': the live-call spec needs GET /api/dashboard (branch apiops) for the page's body.
export const PENDING = new Set<string>(['dashboard', 'calls', 'leads', 'whatsapp', 'broadcasts']);

export const pending = (feature: string): boolean => PENDING.has(feature);
