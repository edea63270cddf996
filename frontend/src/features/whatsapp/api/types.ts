// The shapes of /api/whatsapp's conversations and messages (api/whatsapp_schemas.py).
export type WhatsAppMessage = {
  id: number;
  lead_id: number | null;
  direction: 'inbound' | 'outbound';
  message_id: string;
  peer: string;
  body: string;
  media: unknown[];
  /** outbound: sent, server_ack, delivered, read, failed; inbound: received, read. */
  status: string;
  created_at: string | null;
  duplicate?: boolean | null;
};

export type Conversation = {
  lead: { id: number; name: string; phone_e164: string; status: string };
  last_message: WhatsAppMessage;
  unread: number;
};

export type Page<T> = { items: T[]; page: number; per_page: number; total: number; pages: number };

/** How often an open inbox asks for new messages (the event stream carries none). */
export const INBOX_REFRESH_MS = 15_000;
