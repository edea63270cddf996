// Pure mapping from Baileys 7 (rc14) shapes to the contract's shapes: disconnect info, inbound
// messages (phone JIDs and LIDs, with remoteJidAlt), status updates, 463 time-locks and send
// errors. Kept free of sockets so it is unit-tested with fixtures (test/baileys-map.test.js).
import { SendError } from '../driver.js';

const PHONE_SUFFIX = '@s.whatsapp.net';

/** '15551230000:12@s.whatsapp.net' -> '+15551230000'; anything else (LID, group) -> null. */
export function jidToPhone(jid) {
  if (typeof jid !== 'string' || !jid.endsWith(PHONE_SUFFIX)) return null;
  const user = jid.slice(0, -PHONE_SUFFIX.length).split(':')[0];
  return /^[1-9][0-9]{6,14}$/.test(user) ? `+${user}` : null;
}

/** '1234:5@lid' -> '1234@lid' (device suffix dropped); non-LID -> null. */
export function normalizeLid(jid) {
  if (typeof jid !== 'string' || !jid.endsWith('@lid')) return null;
  return `${jid.slice(0, -4).split(':')[0]}@lid`;
}

/** lastDisconnect of connection.update -> { code, message } for classifyDisconnect. */
export function disconnectInfo(lastDisconnect) {
  const err = lastDisconnect && lastDisconnect.error;
  const code = err?.output?.statusCode ?? err?.output?.payload?.statusCode ?? 428;
  return { code: Number(code), message: String(err?.message || '') };
}

export function meFromCreds(me) {
  if (!me) return null;
  return { phone: jidToPhone(me.id), lid: normalizeLid(me.lid) };
}

function toIso(ts) {
  let n = ts;
  if (n && typeof n === 'object') n = typeof n.toNumber === 'function' ? n.toNumber() : Number(n.low ?? 0);
  n = Number(n);
  if (!Number.isFinite(n) || n <= 0) return new Date().toISOString();
  return new Date(n < 1e12 ? n * 1000 : n).toISOString();
}

function unwrap(message) {
  let m = message;
  for (let i = 0; i < 4 && m; i += 1) {
    const inner = m.ephemeralMessage?.message || m.viewOnceMessage?.message || m.viewOnceMessageV2?.message
      || m.documentWithCaptionMessage?.message;
    if (!inner) break;
    m = inner;
  }
  return m;
}

const MEDIA_KINDS = ['imageMessage', 'videoMessage', 'audioMessage', 'documentMessage', 'stickerMessage'];

/** One WAMessage of messages.upsert (type notify) -> message.inbound data, or null to skip. */
export function inboundFromMessage(msg) {
  const key = msg?.key;
  if (!key || key.fromMe || !key.id || typeof key.remoteJid !== 'string') return null;
  const jid = key.remoteJid;
  if (!(jid.endsWith(PHONE_SUFFIX) || jid.endsWith('@lid'))) return null; // groups, status, newsletters
  const m = unwrap(msg.message);
  if (!m) return null;
  const kind = MEDIA_KINDS.find((k) => m[k]);
  const text = m.conversation || m.extendedTextMessage?.text || '';
  if (!text && !kind) return null; // reactions, protocol messages, receipts
  const isLid = jid.endsWith('@lid');
  const alt = key.remoteJidAlt || key.senderPn || null;
  return {
    message_id: key.id,
    chat: jid,
    from_phone: isLid ? jidToPhone(alt) : jidToPhone(jid),
    from_lid: isLid ? normalizeLid(jid) : normalizeLid(alt),
    push_name: msg.pushName || null,
    text: text || m[kind]?.caption || '',
    media: kind ? { mime: m[kind].mimetype || 'application/octet-stream', caption: m[kind].caption || '' } : null,
    timestamp: toIso(msg.messageTimestamp),
  };
}

const STATUS = { 0: 'failed', 2: 'server_ack', 3: 'delivered', 4: 'read', 5: 'read' };

/** One entry of messages.update -> message.status data, or null (pending, not ours, no status). */
export function statusFromUpdate(entry) {
  const key = entry?.key;
  const status = entry?.update?.status;
  if (!key?.fromMe || !key.id || status === undefined || status === null) return null;
  const mapped = STATUS[status];
  if (!mapped) return null;
  const params = entry.update.messageStubParameters;
  return { message_id: key.id, status: mapped, error: mapped === 'failed' ? String((params && params[0]) || 'error') : null };
}

/** connection.update's reachoutTimeLock -> the Date new contacts are paused until, or null. */
export function reachoutUntil(update, now = Date.now()) {
  const lock = update?.reachoutTimeLock;
  if (!lock || !lock.isActive) return null;
  const ends = lock.timeEnforcementEnds;
  if (ends instanceof Date && ends.getTime() > now) return ends;
  if (typeof ends === 'number' && ends > 0) return new Date(ends < 1e12 ? ends * 1000 : ends);
  return new Date(now + 24 * 3600 * 1000);
}

/** An error thrown by sendMessage -> SendError (kind decides 423 / 422 / 503). */
export function sendErrorFrom(err) {
  const code = err?.output?.statusCode ?? err?.data?.statusCode;
  const text = String(err?.message || err);
  if (code === 463 || /\b463\b|reach.?out/i.test(text)) return new SendError('reach_out_limited', text);
  if (/not on whatsapp|not-authorized|item-not-found/i.test(text)) return new SendError('invalid_number', text);
  return new SendError('send_failed', text);
}

/** The contract's media -> Baileys message content. */
export function contentFor({ text, media }) {
  if (!media) return { text };
  const source = { url: media.url || media.path };
  const caption = media.caption || text || undefined;
  if (media.mime.startsWith('image/')) return { image: source, caption, mimetype: media.mime };
  if (media.mime.startsWith('video/')) return { video: source, caption, mimetype: media.mime };
  if (media.mime.startsWith('audio/')) return { audio: source, mimetype: media.mime };
  return { document: source, caption, mimetype: media.mime };
}
