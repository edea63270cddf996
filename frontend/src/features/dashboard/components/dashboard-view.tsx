import { Link } from 'react-router';

import { QueueTable } from '@/components/ops/queue-table';
import { Badge, type Tone } from '@/components/ui/badge';
import { EmptyState } from '@/components/ui/states';
import { paths } from '@/config/paths';
import { formatTime, humanize } from '@/utils/format';

import type { Dashboard } from '../api/get-dashboard';
import type { LiveCall } from '../live';

import { CallsChart } from './calls-chart';

function level(used: number, capacity: number): 'ok' | 'high' | 'full' {
  if (capacity > 0 && used >= capacity) return 'full';
  return capacity > 0 && used / capacity >= 0.8 ? 'high' : 'ok';
}

function Capacity({ label, used, capacity }: { label: string; used: number | null; capacity: number | null }) {
  const known = used !== null && capacity !== null && capacity > 0;
  const percent = known ? Math.min(100, Math.round((used / capacity) * 100)) : 0;
  return (
    <div className="card">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={`${label.toLowerCase().replace(/\s+/g, '-')}-value`}>
        {used ?? '—'}
        <span className="muted" style={{ fontSize: '1rem', fontWeight: 500 }}>
          {capacity !== null ? ` / ${capacity}` : ''}
        </span>
      </div>
      {known ? (
        <div
          className="meter"
          data-level={level(used, capacity)}
          role="meter"
          aria-label={`${label}: ${used} of ${capacity}`}
          aria-valuemin={0}
          aria-valuemax={capacity}
          aria-valuenow={used}
        >
          <span style={{ width: `${percent}%` }} />
        </div>
      ) : (
        <p className="small muted">
          {used === null
            ? 'Live numbers are unavailable right now.'
            : capacity === 0
              ? 'No calls service reports its capacity right now.'
              : 'No limit set.'}
        </p>
      )}
    </div>
  );
}

const WHATSAPP_TONES: Record<string, Tone> = { connected: 'ok', open: 'ok', connecting: 'warn', qr: 'warn', logged_out: 'danger', disconnected: 'danger' };

export function DashboardView({ data, liveCalls }: { data: Dashboard; liveCalls: LiveCall[] }) {
  const rejected = Object.entries(data.rejected_24h).sort((a, b) => b[1] - a[1]);
  const rejectedTotal = rejected.reduce((sum, [, n]) => sum + n, 0);
  const answered24h = data.calls_per_hour.reduce((sum, h) => sum + h.answered, 0);
  const earlier = Math.max(0, (data.active_calls ?? 0) - liveCalls.length);
  return (
    <>
      {data.redis_available === false ? (
        <div className="alert alert-warn" role="status">
          Live numbers are unavailable: the call service&apos;s store cannot be reached. Totals below are still current.
        </div>
      ) : null}
      <section className="grid grid-4" aria-label="Key numbers">
        <Capacity label="Active calls" used={data.active_calls} capacity={data.max_concurrent_calls} />
        {data.cluster ? <Capacity label="Cluster capacity" used={data.cluster.active_count} capacity={data.cluster.capacity} /> : null}
        <div className="card">
          <div className="stat-label">Answered, last 24 h</div>
          <div className="stat-value" data-testid="answered-24h">{answered24h}</div>
        </div>
        <div className="card">
          <div className="stat-label">Rejected, last 24 h</div>
          <div className="stat-value" data-testid="rejected-24h">{rejectedTotal}</div>
        </div>
      </section>

      <div className="grid grid-2">
        <section className="card" aria-labelledby="live-calls">
          <div className="card-header">
            <h2 id="live-calls">Active calls</h2>
            <Badge tone={data.active_calls ? 'ok' : 'neutral'}>{data.active_calls ?? '—'} live</Badge>
          </div>
          {liveCalls.length ? (
            <ul className="stack" style={{ listStyle: 'none', margin: 0, padding: 0, gap: 8 }} aria-live="polite">
              {liveCalls.map((call) => (
                <li key={call.call_sid} className="row" style={{ justifyContent: 'space-between' }}>
                  <span className="row" style={{ gap: 8 }}>
                    <span className="dot live-dot" style={{ color: 'var(--ok)' }} aria-hidden />
                    <code>{call.call_sid}</code>
                  </span>
                  <span className="small muted">since {formatTime(call.started_at)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted" aria-live="polite">
              {earlier ? 'No new calls since you opened this page.' : 'No calls right now. New calls appear here the moment they start.'}
            </p>
          )}
          {earlier ? (
            <p className="small muted" style={{ marginTop: 8 }}>
              {earlier} call{earlier === 1 ? '' : 's'} already in progress when this page opened.
            </p>
          ) : null}
        </section>

        <section className="card" aria-labelledby="rejected">
          <div className="card-header">
            <h2 id="rejected">Rejected calls</h2>
            <Link to={`${paths.calls.getHref()}?status=rejected`} className="small">
              See all
            </Link>
          </div>
          {rejected.length ? (
            <ul className="stack" style={{ listStyle: 'none', margin: 0, padding: 0, gap: 6 }}>
              {rejected.map(([reason, count]) => (
                <li key={reason} className="row" style={{ justifyContent: 'space-between' }}>
                  <span>{humanize(reason)}</span>
                  <Badge tone="danger">{count}</Badge>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No call was turned away in the last 24 hours.</p>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="per-hour">
        <div className="card-header">
          <h2 id="per-hour">Calls per hour</h2>
          <span className="small muted">last 24 hours</span>
        </div>
        <CallsChart hours={data.calls_per_hour} />
      </section>

      <div className="grid grid-2">
        <section className="card" aria-labelledby="whatsapp-state">
          <div className="card-header">
            <h2 id="whatsapp-state">WhatsApp</h2>
            {data.whatsapp ? (
              <Badge tone={WHATSAPP_TONES[data.whatsapp.state] ?? 'neutral'}>{humanize(data.whatsapp.state)}</Badge>
            ) : null}
          </div>
          {data.whatsapp ? (
            <p className="muted">
              {data.whatsapp.phone ? `Sending from ${data.whatsapp.phone}. ` : ''}
              <Link to={paths.settings.getHref('whatsapp')}>Manage the connection</Link>
            </p>
          ) : (
            <p className="muted">
              Not connected. <Link to={paths.settings.getHref('whatsapp')}>Connect WhatsApp</Link>
            </p>
          )}
        </section>

        {data.queues ? (
          <section aria-labelledby="queues">
            <h2 id="queues" className="visually-hidden">Queues</h2>
            {data.queues.length ? (
              <QueueTable queues={data.queues} caption="Queue depths" />
            ) : (
              <EmptyState title="No queues" />
            )}
          </section>
        ) : null}
      </div>
    </>
  );
}
