// Idempotency keys of sends, kept durably on the shard's volume for at least 7 days: an
// append-only JSON-lines file, fsync'd per record, compacted (old records dropped) at start.
import fs from 'node:fs/promises';
import path from 'node:path';
import { appendLineDurable, writeFileAtomic } from './fsutil.js';

export const KEEP_MS = 8 * 24 * 3600 * 1000;

export class IdempotencyStore {
  constructor(dataDir) {
    this.file = path.join(dataDir, 'idempotency.jsonl');
    this.map = new Map();
  }

  static key(businessId, idempotencyKey) { return `${businessId}\u0000${idempotencyKey}`; }

  async open(now = Date.now()) {
    let text = '';
    try { text = await fs.readFile(this.file, 'utf8'); } catch (err) { if (err.code !== 'ENOENT') throw err; }
    const lines = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const rec = JSON.parse(line);
        if (now - rec.at > KEEP_MS) continue;
        this.map.set(IdempotencyStore.key(rec.b, rec.k), rec.m);
        lines.push(line);
      } catch { /* a torn last line after a crash: that send was never answered, drop it */ }
    }
    await writeFileAtomic(this.file, lines.length ? `${lines.join('\n')}\n` : '');
  }

  get(businessId, idempotencyKey) { return this.map.get(IdempotencyStore.key(businessId, idempotencyKey)) ?? null; }

  async put(businessId, idempotencyKey, messageId) {
    await appendLineDurable(this.file, JSON.stringify({ b: businessId, k: idempotencyKey, m: messageId, at: Date.now() }));
    this.map.set(IdempotencyStore.key(businessId, idempotencyKey), messageId);
  }
}
