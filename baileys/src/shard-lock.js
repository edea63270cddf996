// One gateway process per shard volume. Two processes on the same BAILEYS_DATA_DIR (a rolling
// deploy, a second replica by mistake) would both drive the same WhatsApp creds: 440 loops and
// undecryptable messages. The process holds a lease file `shard.lock` ({token, pid, host,
// renewed_at}) renewed every ttl/3; a start finding a fresh lease of someone else refuses
// (exit 1: the orchestrator retries); a lease older than ttl is stale (a crashed process) and
// is taken over. A holder that finds its token replaced stops at once (it lost the volume).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { writeFileAtomic } from './fsutil.js';

export class ShardLockHeld extends Error {}

export class ShardLock {
  constructor(dataDir, { ttlMs = 15000, onLost = () => {} } = {}) {
    this.file = path.join(dataDir, 'shard.lock');
    this.ttlMs = ttlMs;
    this.onLost = onLost;
    this.token = crypto.randomUUID();
    this.timer = null;
  }

  #record() {
    return JSON.stringify({ token: this.token, pid: process.pid, host: os.hostname(), renewed_at: Date.now() });
  }

  async #read() {
    try { return JSON.parse(await fs.readFile(this.file, 'utf8')); } catch { return null; }
  }

  async acquire() {
    const tmp = `${this.file}.${this.token}`;
    await fs.writeFile(tmp, this.#record(), { mode: 0o600 });
    try {
      await fs.link(tmp, this.file); // atomic: fails when a lease file exists
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const held = await this.#read();
      if (held && Date.now() - held.renewed_at < this.ttlMs) {
        await fs.rm(tmp, { force: true });
        throw new ShardLockHeld(`another gateway process (pid ${held.pid} on ${held.host}) holds ${this.file}; `
          + `it is released on shutdown or goes stale ${Math.round(this.ttlMs / 1000)} s after that process dies`);
      }
      await fs.rename(tmp, this.file); // stale: take it over
    } finally {
      await fs.rm(tmp, { force: true });
    }
    this.timer = setInterval(() => { this.#renew().catch(() => {}); }, Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref?.();
  }

  async #renew() {
    const held = await this.#read();
    if (!held || held.token !== this.token) {
      clearInterval(this.timer);
      this.timer = null;
      this.onLost(held);
      return;
    }
    await writeFileAtomic(this.file, this.#record());
  }

  async release() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const held = await this.#read();
    if (held && held.token === this.token) await fs.rm(this.file, { force: true });
  }
}
