// Leads in the API's shape (api/responses.py Lead) and a tiny in-memory GET /api/leads.
import type { Lead } from '@/features/leads/api/types';

export function makeLead(overrides: Partial<Lead> = {}): Lead {
  return {
    id: 1,
    business_id: 1,
    phone_e164: '+15551230001',
    name: 'Dana Lead',
    email: '',
    status: 'new',
    source: 'call',
    notes: '',
    created_at: '2026-12-01T10:00:00+00:00',
    updated_at: '2026-12-01T10:00:00+00:00',
    last_contact_at: null,
    ...overrides,
  };
}

export function leadPage(leads: Lead[], url: URL) {
  const status = url.searchParams.get('status');
  const items = leads.filter((lead) => !status || lead.status === status);
  return { items, page: 1, per_page: Number(url.searchParams.get('per_page') ?? 25), total: items.length, pages: 1 };
}
