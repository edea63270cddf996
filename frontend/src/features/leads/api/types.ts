// The API's lead shapes (api/responses.py Lead, LeadDetail, LeadTimeline).

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const LEAD_SOURCES = ['call', 'whatsapp', 'email', 'manual', 'import'] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];
export const LEAD_SORTS = ['-created_at', '+created_at', 'name', 'last_contact_at'] as const;
export type LeadSort = (typeof LEAD_SORTS)[number];

export type Lead = {
  id: number;
  business_id: number;
  phone_e164: string;
  name: string;
  email: string;
  status: LeadStatus;
  source: LeadSource;
  notes: string;
  created_at: string;
  updated_at: string;
  last_contact_at: string | null;
};

export type LeadDetail = Lead & {
  recent_calls: { id: number; call_sid: string; status: string; direction: string; started_at: string | null }[];
};

export type TimelineItem = {
  kind: 'call' | 'message';
  id: number;
  at: string;
  channel?: 'call' | 'whatsapp' | 'email';
  direction?: string;
  status?: string;
  summary?: string;
  duration_seconds?: number | null;
  has_recording?: boolean | null;
};

export type Page<T> = { items: T[]; page: number; per_page: number; total: number; pages: number };

export type LeadTimeline = Partial<Page<TimelineItem>> & { items: TimelineItem[]; lead_id?: number };

export const STATUS_LABELS: Record<LeadStatus, string> = {
  new: 'New',
  contacted: 'Contacted',
  qualified: 'Qualified',
  won: 'Won',
  lost: 'Lost',
};
