// Pages that are still placeholders on this branch (other helpers are building them). Their
// specs are skipped, and say so; the screenshots spec still saves what the page shows now.
// Take a name out when its page is merged: its spec then runs in CI like the others.
// Waiting for the API of branch apiops: 'dashboard' (the live-call spec needs GET /api/dashboard
// for the page's body), 'whatsapp' and 'broadcasts' (the pages follow the session's state from
// /api/events `whatsapp_state` events: without them Settings → WhatsApp stays "Starting").
export const PENDING = new Set<string>(['dashboard', 'whatsapp', 'broadcasts']);

export const pending = (feature: string): boolean => PENDING.has(feature);
