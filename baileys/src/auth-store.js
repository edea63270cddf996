// Per-business WhatsApp auth state (creds + Signal keys) on the shard's volume. Each business has
// a directory auth/<business_id>/ with creds.json and keys.json, each replaced atomically
// (fsutil.writeFileAtomic) under a per-business mutex: one writer per business. Values are
// secrets equivalent to the account: they are never logged.
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, KeyedMutex, fsyncDir } from './fsutil.js';

export class AuthStateCorrupt extends Error {
  constructor(businessId, detail) {
    super(`auth state of business ${businessId} is unreadable (${detail})`);
    this.code = 'auth_state_corrupt';
  }
}

export class AuthStore {
  constructor(dataDir) {
    this.root = path.join(dataDir, 'auth');
    this.mutex = new KeyedMutex();
  }

  dir(businessId) { return path.join(this.root, businessId); }

  /** Business ids whose creds are on this volume (sessions to restore at start). */
  async listBusinesses() {
    let names;
    try { names = await fs.readdir(this.root); } catch (err) { if (err.code === 'ENOENT') return []; throw err; }
    const found = [];
    for (const name of names.filter((n) => /^[0-9]+$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
      try { await fs.access(path.join(this.root, name, 'creds.json')); found.push(name); } catch { /* no creds yet */ }
    }
    return found;
  }

  async #readJson(businessId, file, reviver) {
    let text;
    try { text = await fs.readFile(path.join(this.dir(businessId), file), 'utf8'); } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw new AuthStateCorrupt(businessId, `${file}: ${err.code}`);
    }
    try {
      const value = JSON.parse(text, reviver);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
      return value;
    } catch {
      throw new AuthStateCorrupt(businessId, `${file} is not a JSON object`);
    }
  }

  readCreds(businessId, reviver) { return this.mutex.run(businessId, () => this.#readJson(businessId, 'creds.json', reviver)); }
  readKeys(businessId, reviver) { return this.mutex.run(businessId, () => this.#readJson(businessId, 'keys.json', reviver)); }

  writeCreds(businessId, creds, replacer) {
    return this.mutex.run(businessId, () => writeFileAtomic(path.join(this.dir(businessId), 'creds.json'), JSON.stringify(creds, replacer)));
  }

  writeKeys(businessId, keys, replacer) {
    return this.mutex.run(businessId, () => writeFileAtomic(path.join(this.dir(businessId), 'keys.json'), JSON.stringify(keys, replacer)));
  }

  /** Delete the whole auth state (logout, 401): the next start needs a new QR scan. */
  remove(businessId) {
    return this.mutex.run(businessId, async () => {
      await fs.rm(this.dir(businessId), { recursive: true, force: true });
      try { await fsyncDir(this.root); } catch { /* root may not exist */ }
    });
  }
}
