// A GET /api/dashboard answer: 24 hours ending with the current one.
export function makeDashboard(now = Date.now()) {
  const hour = 3_600_000;
  const current = Math.floor(now / hour) * hour;
  return {
    business_id: 1,
    active_calls: 2,
    max_concurrent_calls: 5,
    cluster: { active_count: 3, capacity: 20 },
    calls_per_hour: Array.from({ length: 24 }, (_, i) => ({
      hour: new Date(current - (23 - i) * hour).toISOString(),
      answered: i === 23 ? 4 : 1,
      rejected: 0,
    })),
    rejected_24h: { capacity: 1 },
    queues: null,
    whatsapp: { state: 'connected', phone: '+15550100000', updated_at: null },
    redis_available: true,
    generated_at: new Date(now).toISOString(),
  };
}
