// GET /api/calls and /api/calls/{id} answers (api/responses.py Call, CallDetail).
export function makeCall(overrides: Record<string, unknown> = {}) {
  return {
    id: 1,
    call_sid: 'CA0001',
    business_id: 1,
    lead_id: 7,
    lead: { id: 7, name: 'Dana Lead', phone_e164: '+15551230007', status: 'new' },
    direction: 'inbound',
    from: '+15551230007',
    to: '+15550100000',
    status: 'completed',
    end_reason: 'caller_hung_up',
    started_at: '2026-12-07T09:00:00+00:00',
    ended_at: '2026-12-07T09:01:05+00:00',
    duration_seconds: 65,
    billed_duration_seconds: 66,
    has_recording: true,
    summary: 'Asked for a quote.',
    created_at: '2026-12-07T09:00:00+00:00',
    ...overrides,
  };
}

export function makeCallPage(items: unknown[], { page = 1, per_page = 25, total = items.length } = {}) {
  return { items, page, per_page, total, pages: Math.max(1, Math.ceil(total / per_page)) };
}
