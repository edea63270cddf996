// The SessionDriver interface between the session manager and a WhatsApp implementation
// (drivers/baileys.js in production, drivers/fake.js in tests). docs/ARCHITECTURE.md §7.
//
// driver.name: 'baileys' | 'fake'
// driver.createSession({ businessId, authStore, log, callbacks }) -> Promise<SessionHandle>
//   rejects with AuthStateCorrupt when the stored auth state cannot be read.
//   callbacks (each may be called any number of times, in order):
//     qr(qrString)                 a QR to scan (state qr)
//     open({ phone, lid })         connected
//     close({ code, message })     the connection ended; the manager decides what next
//     inbound(data)                data of a message.inbound event (contract shape)
//     status(data)                 data of a message.status event
//     limited(untilDate)           WhatsApp refuses new contacts (463) until that time
// SessionHandle:
//   send({ to, text, media }) -> Promise<{ messageId }>; rejects with SendError
//   read(chatPhone, messageIds) -> Promise<void>
//   logout() -> Promise<void>     unlink the device (the manager then deletes the auth state)
//   end() -> Promise<void>        close the socket, keep the auth state (shutdown)

export class SendError extends Error {
  /** kind: 'invalid_number' (permanent) | 'reach_out_limited' (463) | 'send_failed' (retry) */
  constructor(kind, message, { until = null } = {}) {
    super(message);
    this.kind = kind;
    this.until = until;
  }
}

export function phoneToJid(phone) { return `${phone.replace(/^\+/, '')}@s.whatsapp.net`; }
