// The production SessionDriver on Baileys 7 (pinned 7.0.0-rc14). Thin on purpose: it opens a
// socket with our own auth state (creds + keys on the shard volume through AuthStore, never
// useMultiFileAuthState) and maps Baileys events to the driver callbacks with baileys-map.js.
// It cannot be exercised against WhatsApp in tests; the mapping functions are.
import makeWASocket, { BufferJSON, initAuthCreds, makeCacheableSignalKeyStore, Browsers, proto } from 'baileys';
import { SendError, phoneToJid } from '../driver.js';
import {
  disconnectInfo, inboundFromMessage, statusFromUpdate, reachoutUntil, sendErrorFrom, contentFor, meFromCreds,
} from './baileys-map.js';

const SENT_CACHE = 500;

/** Auth state for makeWASocket backed by AuthStore: every keys.set is persisted before it resolves. */
export async function loadAuthState(authStore, businessId) {
  const creds = (await authStore.readCreds(businessId, BufferJSON.reviver)) || initAuthCreds();
  const keys = (await authStore.readKeys(businessId, BufferJSON.reviver)) || {};
  return {
    state: {
      creds,
      keys: {
        async get(type, ids) {
          const out = {};
          for (const id of ids) {
            let value = keys[type]?.[id];
            if (value && type === 'app-state-sync-key') value = proto.Message.AppStateSyncKeyData.fromObject(value);
            if (value !== undefined) out[id] = value;
          }
          return out;
        },
        async set(data) {
          for (const [type, entries] of Object.entries(data)) {
            keys[type] ||= {};
            for (const [id, value] of Object.entries(entries || {})) {
              if (value === null || value === undefined) delete keys[type][id];
              else keys[type][id] = value;
            }
          }
          await authStore.writeKeys(businessId, keys, BufferJSON.replacer);
        },
      },
    },
    saveCreds: () => authStore.writeCreds(businessId, creds, BufferJSON.replacer),
  };
}

export class BaileysDriver {
  /**
   * version: the WA Web version triple to announce (WA_WEB_VERSION); null = Baileys' built-in.
   * socketUrl: tests point the socket at a local address (Baileys' only transport seam).
   */
  constructor({ version = null, socketUrl = null } = {}) { this.name = 'baileys'; this.version = version; this.socketUrl = socketUrl; }

  async createSession({ businessId, authStore, log, callbacks }) {
    const { state, saveCreds } = await loadAuthState(authStore, businessId);
    const logger = log.child({ business_id: businessId, component: 'baileys' });
    // Baileys logs protocol details below warn: never more verbose than warn, never above the parent.
    logger.level = ['warn', 'error', 'fatal', 'silent'].includes(log.level) ? log.level : 'warn';
    const sent = new Map(); // message id -> content, for Baileys' retry re-encryption (getMessage)
    const sock = makeWASocket({
      auth: { creds: state.creds, keys: makeCacheableSignalKeyStore(state.keys, logger) },
      logger,
      ...(this.version ? { version: this.version } : {}),
      ...(this.socketUrl ? { waWebSocketUrl: this.socketUrl } : {}),
      browser: Browsers.macOS('Chrome'),
      markOnlineOnConnect: false,
      syncFullHistory: false, // the initial (non-full) sync stays on: it carries the LID mappings
      shouldIgnoreJid: (jid) => typeof jid === 'string' && (jid.endsWith('@broadcast') || jid.endsWith('@newsletter')),
      getMessage: async (key) => sent.get(key.id),
    });
    let closed = false;
    sock.ev.process(async (events) => {
      if (events['creds.update']) await saveCreds().catch((err) => logger.error({ err: err.message }, 'could not save creds'));
      const update = events['connection.update'];
      if (update) {
        if (update.qr) callbacks.qr(update.qr);
        if (update.connection === 'open') callbacks.open(meFromCreds(state.creds.me));
        const until = reachoutUntil(update);
        if (until) callbacks.limited(until);
        if (update.connection === 'close' && !closed) { closed = true; callbacks.close(disconnectInfo(update.lastDisconnect)); }
      }
      const upsert = events['messages.upsert'];
      if (upsert && upsert.type === 'notify') {
        for (const msg of upsert.messages) { const data = inboundFromMessage(msg); if (data) callbacks.inbound(data); }
      }
      for (const entry of events['messages.update'] || []) {
        const data = statusFromUpdate(entry);
        if (!data) continue;
        callbacks.status(data);
        if (data.status === 'failed' && data.error === '463') callbacks.limited(null);
      }
    });
    const checked = new Map(); // phone -> jid, to ask onWhatsApp once per contact and connection
    return {
      async send({ to, text, media }) {
        let jid = checked.get(to);
        try {
          if (!jid) {
            const [res] = await sock.onWhatsApp(phoneToJid(to));
            if (!res || !res.exists) throw new SendError('invalid_number', `${to} is not on WhatsApp`);
            jid = res.jid;
            checked.set(to, jid);
          }
          const content = contentFor({ text, media });
          const msg = await sock.sendMessage(jid, content);
          sent.set(msg.key.id, msg.message);
          if (sent.size > SENT_CACHE) sent.delete(sent.keys().next().value);
          return { messageId: msg.key.id };
        } catch (err) {
          throw err instanceof SendError ? err : sendErrorFrom(err);
        }
      },
      async read(chat, messageIds) {
        await sock.readMessages(messageIds.map((id) => ({ remoteJid: checked.get(chat) || phoneToJid(chat), id, fromMe: false })));
      },
      async logout() { closed = true; await sock.logout(); },
      async end() { closed = true; sock.end(undefined); },
    };
  }
}
