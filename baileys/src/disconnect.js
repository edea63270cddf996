// What the session manager does when a connection closes, by WhatsApp disconnect code
// (docs/ARCHITECTURE.md §7 has the table). Only 401/403 are terminal logouts; 515 after a scan
// is normal; 440 means another process holds our creds (an ownership bug: no reconnect loop);
// 408 "QR refs attempts ended" stops the QR loop; anything else reconnects with backoff.

/**
 * @param {number|undefined} code  the status code (Baileys: lastDisconnect.error.output.statusCode)
 * @param {string} message          the error message, if any
 * @param {string} stateBefore      session state when the close arrived
 * @returns {{action: 'logged_out'|'fail'|'restart'|'backoff', reason: string, wipe: boolean}}
 */
export function classifyDisconnect(code, message = '', stateBefore = 'connected') {
  switch (code) {
    case 401: return { action: 'logged_out', reason: 'logged_out', wipe: true };
    case 403: return { action: 'logged_out', reason: 'forbidden', wipe: false };
    case 440: return { action: 'fail', reason: 'connection_replaced', wipe: false };
    case 515: return { action: 'restart', reason: 'restart_required', wipe: false };
    case 411: return { action: 'fail', reason: 'multidevice_mismatch', wipe: false };
    case 402:
    case 406: return { action: 'fail', reason: 'forbidden', wipe: false };
    case 408:
      if (/QR refs attempts ended/i.test(message) || (stateBefore === 'qr' && !message)) {
        return { action: 'fail', reason: 'qr_timeout', wipe: false };
      }
      return { action: 'backoff', reason: 'connection_lost', wipe: false };
    default: return { action: 'backoff', reason: 'connection_lost', wipe: false };
  }
}

/** Reconnect delay for attempt n (0-based): 2 s · 1.6^n, capped at `capMs`, ±30 % jitter. */
export function backoffDelay(attempt, { baseMs = 2000, factor = 1.6, capMs = 120000, random = Math.random } = {}) {
  const raw = Math.min(capMs, baseMs * factor ** attempt);
  return Math.round(raw * (0.7 + random() * 0.6));
}
