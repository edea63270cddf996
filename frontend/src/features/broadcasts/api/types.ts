// The shapes of /api/broadcasts (api/routes/broadcasts.py).
export const BROADCAST_STATUSES = ['accepted', 'running', 'paused', 'completed', 'cancelled', 'failed'] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

export type Progress = { total: number; sent: number; failed: number; skipped: number; pending: number };

export type Broadcast = {
  id: number;
  business_id: number;
  name: string;
  text: string;
  attachment_id: number | null;
  status: BroadcastStatus;
  progress: Progress;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
};

export type Page<T> = { items: T[]; page: number; per_page: number; total: number; pages: number };

export type BroadcastAction = 'start' | 'pause' | 'resume' | 'cancel';

/** Which actions each status allows (api/services/broadcasts.py ACTIONS). */
export const ALLOWED: Record<BroadcastStatus, BroadcastAction[]> = {
  accepted: ['start', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  completed: [],
  cancelled: [],
  failed: [],
};

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
export const LEAD_SOURCES = ['call', 'whatsapp', 'email', 'manual', 'import'] as const;

/** While a broadcast sends, its progress is read again this often. */
export const PROGRESS_REFRESH_MS = 3_000;
