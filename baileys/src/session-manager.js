// One WhatsApp session per business on this shard: the state machine
// stopped -> starting -> qr -> connected | logged_out | failed (docs/ARCHITECTURE.md §7),
// the reconnect policy of disconnect.js, the 463 circuit breaker, idempotent sends and
// events for the API (through the durable EventQueue).
import { classifyDisconnect, backoffDelay } from './disconnect.js';
import { SendError } from './driver.js';

export const STATES = ['stopped', 'starting', 'qr', 'connected', 'logged_out', 'failed'];
const QR_LIFETIME_MS = 60000;
const DEFAULT_LIMIT_MS = 24 * 3600 * 1000;
const PAIRING_GRACE_MS = 15000;

export class HttpError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    Object.assign(this, { status, code, extra });
  }
}

export class SessionManager {
  constructor({ shardId, driver, authStore, metaStore, idempotency, events, log, backoff = {} }) {
    Object.assign(this, { shardId, driver, authStore, metaStore, idempotency, events, log, backoff });
    this.sessions = new Map();
    this.inflight = new Map();
    this.closing = false;
    this.draining = false;
  }

  #entry(businessId) {
    let s = this.sessions.get(businessId);
    if (!s) {
      s = { businessId, state: 'stopped', reason: null, qr: null, qrExpiresAt: null, me: null,
        updatedAt: new Date(), handle: null, epoch: 0, attempts: 0, timer: null };
      this.sessions.set(businessId, s);
    }
    return s;
  }

  view(businessId, { withQr = true } = {}) {
    const s = this.sessions.get(businessId) || { state: 'stopped', reason: null, qr: null, me: null, updatedAt: new Date() };
    const out = { version: 1, business_id: businessId, shard_id: this.shardId, state: s.state, reason: s.reason,
      qr: s.state === 'qr' ? s.qr : null, me: s.me, updated_at: s.updatedAt.toISOString() };
    if (!withQr) delete out.qr;
    return out;
  }

  counts() {
    const c = Object.fromEntries(STATES.map((k) => [k, 0]));
    for (const s of this.sessions.values()) c[s.state] += 1;
    return c;
  }

  #emit(s, type, data) {
    return this.events.enqueue(s.businessId, type, data, s.epoch).catch((err) => this.log.error({ err }, 'event lost'));
  }

  #setState(s, state, reason = null, extra = {}) {
    const changed = s.state !== state || s.reason !== reason;
    Object.assign(s, { state, reason, updatedAt: new Date() }, extra);
    if (state !== 'qr') { s.qr = null; s.qrExpiresAt = null; }
    if (state !== 'connected' && state !== 'starting') s.me = state === 'logged_out' ? null : s.me;
    if (changed) {
      this.log.info({ business_id: s.businessId, state, reason }, 'session state');
      this.#emit(s, 'session.state', this.view(s.businessId, { withQr: false }));
    }
  }

  /** Start (or keep) the session; idempotent for sessions already starting/qr/connected. */
  async start(businessId) {
    const s = this.#entry(businessId);
    if (s.opening || ['starting', 'qr', 'connected'].includes(s.state)) {
      if (s.opening) await s.opening;
      return this.view(businessId);
    }
    s.attempts = 0;
    await this.#open(s);
    return this.view(businessId);
  }

  /** Open a new connection generation; concurrent callers share one attempt (s.opening). */
  #open(s) {
    if (this.closing || this.draining) return Promise.resolve();
    if (s.opening) return s.opening;
    s.opening = this.#openOnce(s).finally(() => { s.opening = null; });
    return s.opening;
  }

  async #openOnce(s) {
    clearTimeout(s.timer); s.timer = null;
    const meta = await this.metaStore.load(s.businessId);
    meta.epoch += 1;
    s.epoch = meta.epoch;
    await this.metaStore.save(s.businessId);
    const epoch = s.epoch;
    this.#setState(s, 'starting', s.state === 'starting' ? s.reason : null);
    // Callbacks of an older connection generation are ignored. Inbound traffic keeps flowing
    // into the durable queue while the shard drains (closeAll ends the sockets afterwards).
    const live = (fn) => (...args) => { if (s.epoch === epoch) fn(...args); };
    const callbacks = {
      qr: live((qr) => this.#setState(s, 'qr', null, { qr, qrExpiresAt: new Date(Date.now() + QR_LIFETIME_MS) })),
      open: live((me) => { s.attempts = 0; this.#setState(s, 'connected', null, { me: me || null }); }),
      close: live((info) => this.#onClose(s, info || {})),
      inbound: live((data) => this.#onInbound(s, data)),
      status: live((data) => this.#emit(s, 'message.status', data)),
      limited: live((until) => this.#openCircuit(s, until)),
    };
    try {
      const handle = await this.driver.createSession({ businessId: s.businessId, authStore: this.authStore, log: this.log, callbacks });
      if (this.closing) { await handle.end().catch(() => {}); return; } // shutdown began meanwhile
      s.handle = handle;
    } catch (err) {
      s.handle = null;
      const reason = err.code === 'auth_state_corrupt' ? 'auth_state_corrupt' : 'start_failed';
      this.log.error({ business_id: s.businessId, reason, err: err.message }, 'session could not start');
      this.#setState(s, 'failed', reason);
    }
  }

  #onClose(s, { code, message = '' }) {
    let decision = classifyDisconnect(code, message, s.state);
    s.handle = null;
    if (decision.action === 'logged_out' && code === 401 && s.restartedAt && Date.now() - s.restartedAt < PAIRING_GRACE_MS) {
      // A 401 can arrive during the post-scan 515 hand-off; wiping then would delete a healthy
      // new link. Reconnect once instead; a real logout answers 401 again.
      s.restartedAt = null;
      this.log.warn({ business_id: s.businessId }, '401 right after the pairing restart: retrying once before logging out');
      decision = { action: 'backoff', reason: 'connection_lost', wipe: false };
    }
    if (decision.action === 'logged_out') {
      this.#setState(s, 'logged_out', decision.reason);
      if (decision.wipe) this.authStore.remove(s.businessId).catch((err) => this.log.error({ err }, 'auth wipe failed'));
    } else if (decision.action === 'fail') {
      const level = decision.reason === 'connection_replaced' ? 'error' : 'warn';
      this.log[level]({ business_id: s.businessId, code, reason: decision.reason },
        decision.reason === 'connection_replaced'
          ? 'another process uses this business\'s WhatsApp creds (shard ownership bug): not reconnecting'
          : 'session stopped');
      this.#setState(s, 'failed', decision.reason);
    } else if (decision.action === 'restart') {
      s.restartedAt = Date.now();
      this.#setState(s, 'starting', decision.reason);
      this.#open(s);
    } else {
      const delay = backoffDelay(s.attempts, this.backoff);
      s.attempts += 1;
      this.#setState(s, 'starting', decision.reason);
      s.timer = setTimeout(() => { s.timer = null; if (s.state === 'starting') this.#open(s); }, delay);
      s.timer.unref?.();
    }
  }

  async #onInbound(s, data) {
    const queued = this.#emit(s, 'message.inbound', data); // enqueued now: arrival order is event order
    if (data.from_phone) {
      const meta = await this.metaStore.load(s.businessId);
      if (!meta.contacts.has(data.from_phone)) { meta.contacts.add(data.from_phone); await this.metaStore.save(s.businessId); }
    }
    await queued;
  }

  async #openCircuit(s, until) {
    const meta = await this.metaStore.load(s.businessId);
    const when = until instanceof Date && until > new Date() ? until : new Date(Date.now() + DEFAULT_LIMIT_MS);
    if (meta.limitedUntil && meta.limitedUntil >= when) return meta.limitedUntil;
    meta.limitedUntil = when;
    await this.metaStore.save(s.businessId);
    this.log.warn({ business_id: s.businessId, until: when.toISOString() }, 'reach-out limited (463): new contacts paused');
    await this.#emit(s, 'session.limited', { until: when.toISOString(), reason: 'reach_out_limited' });
    return when;
  }

  current(businessId) { return this.sessions.get(businessId) || null; }

  qr(businessId) {
    const s = this.sessions.get(businessId);
    if (!s || s.state !== 'qr' || !s.qr) throw new HttpError(404, 'no_qr', 'the session is not waiting for a QR scan');
    return { qr: s.qr, expires_at: s.qrExpiresAt.toISOString() };
  }

  async logout(businessId) {
    const s = this.#entry(businessId);
    clearTimeout(s.timer); s.timer = null;
    const handle = s.handle;
    s.handle = null;
    s.epoch += 1; // late callbacks of the old connection are ignored
    const meta = await this.metaStore.load(businessId);
    meta.epoch = Math.max(meta.epoch, s.epoch);
    await this.metaStore.save(businessId);
    if (handle) {
      try { await handle.logout(); } catch (err) { this.log.warn({ business_id: businessId, err: err.message }, 'logout call failed; deleting auth state anyway'); }
    }
    await this.authStore.remove(businessId);
    this.#setState(s, 'logged_out', 'logged_out', { me: null });
    return this.view(businessId);
  }

  /** Idempotent send (by idempotency_key, durable); see the contract's error codes. */
  async send(businessId, body) {
    const done = this.idempotency.get(businessId, body.idempotency_key);
    if (done) return { message_id: done, status: 'sent', duplicate: true };
    const key = `${businessId}\u0000${body.idempotency_key}`;
    if (this.inflight.has(key)) {
      const messageId = await this.inflight.get(key);
      return { message_id: messageId, status: 'sent', duplicate: true };
    }
    const p = this.#sendOnce(businessId, body);
    this.inflight.set(key, p);
    try {
      return { message_id: await p, status: 'sent', duplicate: false };
    } finally {
      this.inflight.delete(key);
    }
  }

  async #sendOnce(businessId, body) {
    const s = this.sessions.get(businessId);
    if (!s || s.state !== 'connected' || !s.handle) {
      throw new HttpError(409, 'not_connected', `the WhatsApp session is ${s ? s.state : 'stopped'}`);
    }
    const meta = await this.metaStore.load(businessId);
    const known = meta.contacts.has(body.to);
    if (!known && meta.limitedUntil && meta.limitedUntil > new Date()) {
      throw new HttpError(423, 'reach_out_limited', 'WhatsApp paused messages to new contacts (463)', { until: meta.limitedUntil.toISOString() });
    }
    let result;
    try {
      result = await s.handle.send({ to: body.to, text: body.text, media: body.media ?? null });
    } catch (err) {
      if (err instanceof SendError && err.kind === 'reach_out_limited') {
        const until = await this.#openCircuit(s, err.until);
        throw new HttpError(423, 'reach_out_limited', 'WhatsApp paused messages to new contacts (463)', { until: until.toISOString() });
      }
      if (err instanceof SendError && err.kind === 'invalid_number') throw new HttpError(422, 'invalid_number', err.message);
      this.log.warn({ business_id: businessId, err: err.message }, 'send failed');
      throw new HttpError(503, 'send_failed', 'sending failed; retry later');
    }
    await this.idempotency.put(businessId, body.idempotency_key, result.messageId);
    if (!known) { meta.contacts.add(body.to); await this.metaStore.save(businessId); }
    return result.messageId;
  }

  async read(businessId, body) {
    const s = this.sessions.get(businessId);
    if (!s || s.state !== 'connected' || !s.handle) throw new HttpError(409, 'not_connected', `the WhatsApp session is ${s ? s.state : 'stopped'}`);
    try { await s.handle.read(body.chat, body.message_ids); } catch (err) {
      this.log.warn({ business_id: businessId, err: err.message }, 'read receipt failed');
      throw new HttpError(503, 'send_failed', 'read receipt failed; retry later');
    }
  }

  /** Bring back every session whose auth state is on this volume, `staggerMs` apart. */
  async restore(staggerMs) {
    const ids = await this.authStore.listBusinesses();
    for (const [i, businessId] of ids.entries()) {
      if (this.closing || this.draining) break;
      if (i > 0 && staggerMs) await new Promise((r) => setTimeout(r, staggerMs));
      await this.start(businessId).catch((err) => this.log.error({ business_id: businessId, err: err.message }, 'restore failed'));
    }
    return ids;
  }

  /** Shutdown: close every socket, keeping auth state (sessions come back on the next start). */
  async closeAll() {
    this.closing = true;
    await Promise.all([...this.sessions.values()].map(async (s) => {
      clearTimeout(s.timer);
      if (s.handle) { try { await s.handle.end(); } catch { /* closing anyway */ } }
      s.handle = null;
    }));
  }
}
