// How a live event changes the dashboard (pure): the numbers move the moment the event
// arrives; a refetch after a reconnect replaces them with the server's.

import type { Dashboard, HourCount } from './api/get-dashboard';

export type LiveCall = { call_sid: string; started_at: number; instance?: string };

export type LiveEvent =
  | { type: 'call_started'; call_sid: string; ts?: string; instance?: string }
  | { type: 'call_ended'; call_sid: string; reason?: string }
  | { type: 'rejected'; call_sid?: string; reason?: string }
  | { type: 'whatsapp_state'; state: string };

const HOUR_MS = 3_600_000;

/** The buckets with the current hour last (a new hour pushes the oldest out), `change` applied to it. */
function bumpCurrentHour(hours: HourCount[], now: number, change: (hour: HourCount) => HourCount): HourCount[] {
  const start = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
  const last = hours.at(-1);
  if (last && new Date(last.hour).getTime() === start.getTime()) {
    return [...hours.slice(0, -1), change(last)];
  }
  if (last && new Date(last.hour).getTime() > start.getTime()) return hours; // clock skew: leave it
  const fresh = change({ hour: start.toISOString(), answered: 0, rejected: 0 });
  return [...hours, fresh].slice(-Math.max(hours.length, 1));
}

export function applyEvent(dashboard: Dashboard, event: LiveEvent, now: number): Dashboard {
  switch (event.type) {
    case 'call_started':
      return {
        ...dashboard,
        active_calls: dashboard.active_calls === null ? null : dashboard.active_calls + 1,
        cluster: dashboard.cluster && { ...dashboard.cluster, active_count: dashboard.cluster.active_count + 1 },
        calls_per_hour: bumpCurrentHour(dashboard.calls_per_hour, now, (h) => ({ ...h, answered: h.answered + 1 })),
      };
    case 'call_ended':
      return {
        ...dashboard,
        active_calls: dashboard.active_calls === null ? null : Math.max(0, dashboard.active_calls - 1),
        cluster: dashboard.cluster && {
          ...dashboard.cluster,
          active_count: Math.max(0, dashboard.cluster.active_count - 1),
        },
      };
    case 'rejected': {
      const reason = event.reason || 'unknown';
      return {
        ...dashboard,
        rejected_24h: { ...dashboard.rejected_24h, [reason]: (dashboard.rejected_24h[reason] ?? 0) + 1 },
        calls_per_hour: bumpCurrentHour(dashboard.calls_per_hour, now, (h) => ({ ...h, rejected: h.rejected + 1 })),
      };
    }
    case 'whatsapp_state':
      return { ...dashboard, whatsapp: { ...(dashboard.whatsapp ?? {}), state: event.state } };
  }
}

/** The calls seen starting on this page and not yet ended, newest first. */
export function applyToLiveCalls(calls: LiveCall[], event: LiveEvent, now: number): LiveCall[] {
  if (event.type === 'call_started') {
    if (calls.some((call) => call.call_sid === event.call_sid)) return calls;
    const ts = Number(event.ts);
    return [{ call_sid: event.call_sid, started_at: Number.isFinite(ts) && ts > 0 ? ts : now, instance: event.instance }, ...calls];
  }
  if (event.type === 'call_ended') return calls.filter((call) => call.call_sid !== event.call_sid);
  return calls;
}
