// The API's call shapes (api/responses.py Call, CallDetail; contracts/call_record.py).

export const CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
  'rejected',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
export type CallDirection = 'inbound' | 'outbound';

export type Call = {
  id: number;
  call_sid: string;
  business_id: number;
  lead_id: number | null;
  lead: { id: number; name: string; phone_e164: string; status: string } | null;
  direction: CallDirection;
  from: string;
  to: string;
  status: CallStatus;
  end_reason: string | null;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  billed_duration_seconds: number | null;
  has_recording: boolean;
  summary: string;
  created_at: string;
};

/** One turn as the call's brain recorded it; brains may add fields. */
export type TranscriptTurn = {
  speaker?: string | null;
  /** Older records name the speaker `role`. */
  role?: string | null;
  text?: string | null;
  /** What the recognizer heard before the full transcript was made. */
  heard?: string | null;
  /** Agent turns: the caller barged in. */
  interrupted?: boolean | null;
  /** Agent turns cut by a barge-in: how much audio the caller heard. */
  heard_ms?: number | null;
  audio_ms?: number | null;
  /** A key press the brain logged as a turn. */
  dtmf?: string | null;
  [key: string]: unknown;
};

export type DtmfPress = { digit: string; at_ms: number };

export type CallDetail = Call & {
  transcript: TranscriptTurn[];
  /** Newer APIs list the key presses here; older ones only in events.dtmf. */
  dtmf?: DtmfPress[];
  barge_ins?: number;
  events: Record<string, unknown>;
};

export type Page<T> = { items: T[]; page: number; per_page: number; total: number; pages: number };
