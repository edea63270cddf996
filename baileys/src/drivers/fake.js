// A scriptable SessionDriver (WA_DRIVER=fake; refused when NODE_ENV=production). It keeps its
// "creds" in the same AuthStore as the real driver, so restarts, corrupt files and logouts behave
// like production. Tests drive it in-process (the control methods below) or over HTTP through
// fake-routes.js. Numbers starting with +999 are "not on WhatsApp" (invalid_number).
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SendError } from '../driver.js';

export class FakeDriver {
  constructor() {
    this.name = 'fake';
    this.live = new Map(); // business_id -> { callbacks, authStore, qrCount, ended }
    this.sent = new Map(); // business_id -> [{ to, text, media, messageId }]
    this.reads = new Map();
    this.script = new Map(); // business_id -> { failNext: null|{kind, until} }
    this.opens = new Map(); // business_id -> connections opened (tests count reconnects)
  }

  async createSession({ businessId, authStore, callbacks }) {
    const creds = await authStore.readCreds(businessId); // throws AuthStateCorrupt
    this.opens.set(businessId, (this.opens.get(businessId) || 0) + 1);
    const conn = { callbacks, authStore, qrCount: 0, ended: false };
    this.live.set(businessId, conn);
    setImmediate(() => {
      if (conn.ended) return;
      if (creds && creds.fake_me) callbacks.open(creds.fake_me);
      else { conn.qrCount += 1; callbacks.qr(`fake-qr:${businessId}:${conn.qrCount}:${crypto.randomBytes(4).toString('hex')}`); }
    });
    const driver = this;
    return {
      async send({ to, text, media }) {
        if (conn.ended) throw new SendError('send_failed', 'connection closed');
        const script = driver.script.get(businessId);
        if (script && script.failNext) {
          const { kind, until } = script.failNext;
          script.failNext = null;
          throw new SendError(kind, `fake ${kind}`, { until: until ? new Date(until) : null });
        }
        if (to.startsWith('+999')) throw new SendError('invalid_number', `${to} is not on WhatsApp`);
        const messageId = `FAKE${crypto.randomBytes(8).toString('hex').toUpperCase()}`;
        if (!driver.sent.has(businessId)) driver.sent.set(businessId, []);
        driver.sent.get(businessId).push({ to, text, media, messageId });
        return { messageId };
      },
      async read(chat, messageIds) {
        if (!driver.reads.has(businessId)) driver.reads.set(businessId, []);
        driver.reads.get(businessId).push({ chat, message_ids: messageIds });
      },
      async logout() { conn.ended = true; },
      async end() { conn.ended = true; },
    };
  }

  #conn(businessId) {
    const conn = this.live.get(businessId);
    if (!conn || conn.ended) throw Object.assign(new Error(`no live fake session for business ${businessId}`), { statusCode: 409 });
    return conn;
  }

  /** The phone scans the QR: creds are saved, then WhatsApp forces the usual 515 restart. */
  async scan(businessId, { phone = '+15550000000', lid = null } = {}) {
    const conn = this.#conn(businessId);
    await conn.authStore.writeCreds(businessId, { fake_me: { phone, lid }, registered: true });
    conn.ended = true;
    conn.callbacks.close({ code: 515, message: 'restart required' });
  }

  newQr(businessId) {
    const conn = this.#conn(businessId);
    conn.qrCount += 1;
    conn.callbacks.qr(`fake-qr:${businessId}:${conn.qrCount}:${crypto.randomBytes(4).toString('hex')}`);
  }

  inbound(businessId, fields = {}) {
    const conn = this.#conn(businessId);
    const fromLid = fields.from_lid ?? null;
    const fromPhone = fields.from_phone === undefined ? (fromLid ? null : '+15557654321') : fields.from_phone;
    const data = {
      message_id: fields.message_id || `IN${crypto.randomBytes(6).toString('hex').toUpperCase()}`,
      chat: fields.chat || (fromLid || `${(fromPhone || '+0').slice(1)}@s.whatsapp.net`),
      from_phone: fromPhone, from_lid: fromLid, push_name: fields.push_name ?? null,
      text: fields.text ?? '', media: fields.media ?? null, timestamp: fields.timestamp || new Date().toISOString(),
    };
    conn.callbacks.inbound(data);
    return data;
  }

  status(businessId, { message_id, status, error = null }) {
    this.#conn(businessId).callbacks.status({ message_id, status, error });
  }

  disconnect(businessId, code, message = '') {
    const conn = this.#conn(businessId);
    conn.ended = true;
    conn.callbacks.close({ code, message });
  }

  /** 463: via 'send' the next send fails with it; via 'event' WhatsApp announces the time-lock. */
  limit(businessId, until, via = 'send') {
    if (via === 'event') { this.#conn(businessId).callbacks.limited(new Date(until)); return; }
    this.failNext(businessId, 'reach_out_limited', until);
  }

  failNext(businessId, kind, until = null) {
    if (!this.script.has(businessId)) this.script.set(businessId, { failNext: null });
    this.script.get(businessId).failNext = { kind, until };
  }

  /** Overwrite the stored creds with garbage (auth_state_corrupt on the next start). */
  async corrupt(authStore, businessId) {
    const file = path.join(authStore.dir(businessId), 'creds.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '{"fake_me": {"phone": "+1555');
  }
}
