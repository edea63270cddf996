// Small per-business facts that must survive a restart: the connection epoch (events carry it
// so the API can drop late events of an old connection), the 463 circuit (`limited_until`) and
// the contacts this business already talks to (a 463 pause blocks only new contacts).
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, KeyedMutex } from './fsutil.js';

const MAX_CONTACTS = 50000;

export class MetaStore {
  constructor(dataDir) {
    this.root = path.join(dataDir, 'meta');
    this.cache = new Map();
    this.mutex = new KeyedMutex();
  }

  async load(businessId) {
    if (this.cache.has(businessId)) return this.cache.get(businessId);
    let meta = { epoch: 0, limited_until: null, contacts: [] };
    try {
      const parsed = JSON.parse(await fs.readFile(path.join(this.root, `${businessId}.json`), 'utf8'));
      meta = { ...meta, ...parsed };
    } catch { /* missing or unreadable: start fresh (none of this is a secret or irreplaceable) */ }
    const entry = { epoch: meta.epoch, limitedUntil: meta.limited_until ? new Date(meta.limited_until) : null, contacts: new Set(meta.contacts) };
    this.cache.set(businessId, entry);
    return entry;
  }

  save(businessId) {
    return this.mutex.run(businessId, async () => {
      const m = this.cache.get(businessId);
      if (!m) return;
      const contacts = [...m.contacts].slice(-MAX_CONTACTS);
      await writeFileAtomic(path.join(this.root, `${businessId}.json`), JSON.stringify({
        epoch: m.epoch, limited_until: m.limitedUntil ? m.limitedUntil.toISOString() : null, contacts,
      }));
    });
  }
}
