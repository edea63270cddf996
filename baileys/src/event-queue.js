// Durable outbox of events for the API (docs/ARCHITECTURE.md §7). Each event is one fsync'd JSON
// file events/<seq>.json written before anything is attempted, so a crash or an unreachable API
// loses nothing. One delivery lane per business posts its events in seq order and deletes a
// file only after a 2xx (so a lost answer means a resend with the same event_id: the API
// dedupes). 400/401 are permanent: the event goes to dead-letter.jsonl with a log line.
import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { writeFileAtomic, appendLineDurable, fsyncDir } from './fsutil.js';

export function signBody(secret, timestamp, body) {
  return crypto.createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export class EventQueue {
  /**
   * @param {object} o
   * @param {string} o.dataDir  shard volume
   * @param {number} o.shardId
   * @param {string} o.apiUrl   base URL; events go to {apiUrl}/internal/whatsapp/events
   * @param {string} o.secret   INTERNAL_SECRET (HMAC key)
   * @param {object} o.log      pino-like logger
   * @param {number} [o.baseDelayMs] first retry delay; doubles up to maxDelayMs, with ±30 % jitter
   */
  constructor({ dataDir, shardId, apiUrl, secret, log, baseDelayMs = 500, maxDelayMs = 30000, timeoutMs = 10000 }) {
    this.dir = path.join(dataDir, 'events');
    this.seqFile = path.join(dataDir, 'events.seq');
    this.deadFile = path.join(dataDir, 'dead-letter.jsonl');
    Object.assign(this, { shardId, apiUrl, secret, log, baseDelayMs, maxDelayMs, timeoutMs });
    this.seq = 0;
    this.lanes = new Map(); // business_id -> { pending: [seq...], running: bool, timer }
    this.pending = 0;
    this.closed = false;
    this.writeChain = Promise.resolve();
    this.idleWaiters = [];
  }

  async open() {
    await fs.mkdir(this.dir, { recursive: true });
    let stored = 0;
    try { stored = Number(await fs.readFile(this.seqFile, 'utf8')) || 0; } catch { /* first start */ }
    const files = (await fs.readdir(this.dir)).filter((n) => /^[0-9]+\.json$/.test(n)).sort();
    for (const name of files) {
      let event;
      try { event = JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')); } catch {
        this.log.error({ file: name }, 'unreadable queued event moved to dead letter');
        await this.#dead({ file: name }, 'unreadable');
        await fs.rm(path.join(this.dir, name), { force: true });
        continue;
      }
      stored = Math.max(stored, event.seq);
      this.#laneOf(event.business_id).pending.push(event.seq);
      this.pending += 1;
    }
    this.seq = stored;
    for (const businessId of this.lanes.keys()) this.#kick(businessId);
  }

  #laneOf(businessId) {
    let lane = this.lanes.get(businessId);
    if (!lane) { lane = { pending: [], running: false, timer: null, attempt: 0 }; this.lanes.set(businessId, lane); }
    return lane;
  }

  #file(seq) { return path.join(this.dir, `${String(seq).padStart(16, '0')}.json`); }

  /** Persist one event; resolves with the envelope once it is on disk. Order of calls = seq order. */
  enqueue(businessId, type, data, epoch) {
    const run = async () => {
      this.seq += 1;
      const envelope = {
        version: 1, event_id: crypto.randomUUID(), shard_id: this.shardId, business_id: businessId,
        epoch, seq: this.seq, type, at: new Date().toISOString(), data,
      };
      await writeFileAtomic(this.seqFile, String(this.seq));
      await writeFileAtomic(this.#file(envelope.seq), JSON.stringify(envelope));
      this.#laneOf(businessId).pending.push(envelope.seq);
      this.pending += 1;
      this.#kick(businessId);
      return envelope;
    };
    const result = this.writeChain.then(run);
    this.writeChain = result.catch((err) => this.log.error({ err }, 'could not persist event'));
    return result;
  }

  #kick(businessId) {
    const lane = this.#laneOf(businessId);
    if (lane.running || lane.timer || this.closed) return;
    lane.running = true;
    this.#drain(businessId, lane).finally(() => { lane.running = false; this.#notifyIdle(); });
  }

  async #drain(businessId, lane) {
    while (lane.pending.length && !this.closed) {
      const seq = lane.pending[0];
      let body;
      try { body = await fs.readFile(this.#file(seq)); } catch {
        lane.pending.shift(); this.pending -= 1; continue;
      }
      const outcome = await this.#post(body);
      if (outcome === 'retry') {
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** lane.attempt) * (0.7 + Math.random() * 0.6);
        lane.attempt = Math.min(lane.attempt + 1, 30);
        lane.timer = setTimeout(() => { lane.timer = null; this.#kick(businessId); }, delay);
        lane.timer.unref?.();
        return;
      }
      lane.attempt = 0;
      if (outcome !== 'ok') {
        this.log.error({ business_id: businessId, seq, status: outcome }, 'event refused by the API: moved to dead letter');
        await this.#dead(JSON.parse(body.toString('utf8')), `http ${outcome}`);
      }
      await fs.rm(this.#file(seq), { force: true });
      lane.pending.shift();
      this.pending -= 1;
    }
    if (!lane.pending.length) this.lanes.delete(businessId);
  }

  async #post(body) {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(`${this.apiUrl}/internal/whatsapp/events`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-ProSaaS-Timestamp': String(timestamp),
          'X-ProSaaS-Signature': `v1=${signBody(this.secret, timestamp, body)}`,
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer().catch(() => {});
      if (res.status >= 200 && res.status < 300) return 'ok';
      if (res.status === 400 || res.status === 401) return res.status;
      this.log.warn({ status: res.status }, 'event delivery answered non-2xx: will retry');
      return 'retry';
    } catch (err) {
      this.log.warn({ err: err.message }, 'event delivery failed: will retry');
      return 'retry';
    }
  }

  async #dead(event, why) {
    await appendLineDurable(this.deadFile, JSON.stringify({ why, at: new Date().toISOString(), event }));
  }

  #notifyIdle() {
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolve when every queued event is delivered or `timeoutMs` passed; true when empty. */
  async flush(timeoutMs) {
    await this.writeChain;
    if (this.pending === 0) return true;
    for (const [businessId, lane] of this.lanes) {
      if (lane.timer) { clearTimeout(lane.timer); lane.timer = null; lane.attempt = 0; this.#kick(businessId); }
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.pending === 0), timeoutMs);
      this.idleWaiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  close() {
    this.closed = true;
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
  }
}

export { fsyncDir };
