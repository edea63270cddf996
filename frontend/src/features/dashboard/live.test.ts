import { makeDashboard } from '@/testing/dashboard-data';

import { applyEvent, applyToLiveCalls } from './live';

describe('applyEvent', () => {
  it('starts a new hour bucket when the hour turned, keeping 24', () => {
    const now = Date.UTC(2026, 11, 7, 10, 30);
    const data = makeDashboard(now);
    const next = applyEvent(data, { type: 'call_started', call_sid: 'CA1' }, now + 3_600_000);
    expect(next.calls_per_hour).toHaveLength(24);
    expect(next.calls_per_hour.at(-1)).toEqual({ hour: new Date(Date.UTC(2026, 11, 7, 11)).toISOString(), answered: 1, rejected: 0 });
    expect(next.calls_per_hour[0]).toEqual(data.calls_per_hour[1]);
  });

  it('never counts below zero and leaves unknown numbers unknown', () => {
    const data = { ...makeDashboard(), active_calls: null, cluster: null };
    const next = applyEvent(data, { type: 'call_ended', call_sid: 'CA1' }, Date.now());
    expect(next.active_calls).toBeNull();
    expect(applyEvent({ ...makeDashboard(), active_calls: 0 }, { type: 'call_ended', call_sid: 'x' }, Date.now()).active_calls).toBe(0);
  });

  it('lists a call once and drops it when it ends', () => {
    const started = { type: 'call_started', call_sid: 'CA1', ts: '1000' } as const;
    const calls = applyToLiveCalls(applyToLiveCalls([], started, 5), started, 6);
    expect(calls).toEqual([{ call_sid: 'CA1', started_at: 1000, instance: undefined }]);
    expect(applyToLiveCalls(calls, { type: 'call_ended', call_sid: 'CA1' }, 7)).toEqual([]);
  });
});
