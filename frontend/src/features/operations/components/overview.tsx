// The cluster at a glance: calls instances against capacity, queues, workers, the scheduler's
// leader and the WhatsApp gateway shards.
import { QueueTable } from '@/components/ops/queue-table';
import { Badge } from '@/components/ui/badge';
import { Table } from '@/components/ui/table';
import { formatDateTime, humanize } from '@/utils/format';

import type { Overview as OverviewData } from '../api/get-overview';

const n = (value: number | null | undefined) => (value === null || value === undefined ? '—' : String(value));

function level(active: number, capacity: number): string | undefined {
  if (capacity <= 0) return active ? 'full' : undefined;
  const ratio = active / capacity;
  return ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : undefined;
}

export function Overview({ data }: { data: OverviewData }) {
  const live = data.instances.filter((i) => i.live !== false);
  const active = live.reduce((sum, i) => sum + (i.active ?? 0), 0);
  const capacity = live.reduce((sum, i) => sum + (i.capacity ?? 0), 0);
  return (
    <div className="stack">
      <div className="grid grid-4">
        <div className="card">
          <div className="stat-label">Calls in progress</div>
          <div className="stat-value" data-testid="cluster-active">
            {active} / {capacity}
          </div>
          <div className="meter" data-level={level(active, capacity)} aria-hidden>
            <span style={{ width: `${capacity ? Math.min(100, (100 * active) / capacity) : 0}%` }} />
          </div>
        </div>
        <div className="card">
          <div className="stat-label">Instances</div>
          <div className="stat-value">{live.length}</div>
        </div>
        <div className="card">
          <div className="stat-label">Dead letters</div>
          <div className="stat-value" data-testid="dead-letter-count">
            {data.dead_letters}
          </div>
        </div>
        <div className="card">
          <div className="stat-label">Scheduler leader</div>
          <div className="small" style={{ overflowWrap: 'anywhere' }}>
            {data.scheduler ? (
              <>
                <strong>{data.scheduler.leader}</strong>
                <div className="muted">lease {Math.round(data.scheduler.expires_in_ms / 1000)} s</div>
              </>
            ) : (
              <Badge tone="danger">No leader</Badge>
            )}
          </div>
        </div>
      </div>

      <section className="card stack" aria-labelledby="instances-title">
        <h2 id="instances-title">Calls instances</h2>
        {data.instances.length ? (
          <Table caption="Calls instances" captionHidden>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Active / capacity</th>
                <th scope="col">Pending</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {data.instances.map((i) => (
                <tr key={i.id}>
                  <td>
                    <code>{i.id}</code>
                  </td>
                  <td>
                    {n(i.active)} / {n(i.capacity)}
                  </td>
                  <td>{n(i.pending)}</td>
                  <td>
                    {i.live === false ? <Badge tone="danger">Gone</Badge> : i.draining ? <Badge tone="warn">Draining</Badge> : <Badge tone="ok">Serving</Badge>}
                  </td>
                  <td>{i.version ?? '—'}</td>
                  <td>{formatDateTime(i.started_at)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <p className="muted">No calls instance is running: calls cannot be answered.</p>
        )}
      </section>

      <div className="grid grid-2">
        <section className="card stack" aria-labelledby="queues-title">
          <h2 id="queues-title">Queues</h2>
          <QueueTable queues={data.queues} caption="Queues" captionHidden />
        </section>

        <section className="card stack" aria-labelledby="shards-title">
          <h2 id="shards-title">WhatsApp gateway shards</h2>
          {data.gateway_shards.length ? (
            <Table caption="WhatsApp gateway shards" captionHidden>
              <thead>
                <tr>
                  <th scope="col">Shard</th>
                  <th scope="col">State</th>
                  <th scope="col">Sessions</th>
                </tr>
              </thead>
              <tbody>
                {data.gateway_shards.map((s) => (
                  <tr key={s.shard}>
                    <td>
                      {s.shard}
                      <div className="muted small">{s.url}</div>
                    </td>
                    <td>
                      <Badge tone={s.healthy ? 'ok' : 'danger'}>{humanize(s.state ?? (s.healthy ? 'ok' : 'unhealthy'))}</Badge>
                      {s.detail ? <div className="muted small">{s.detail}</div> : null}
                    </td>
                    <td className="small">
                      {s.sessions
                        ? Object.entries(s.sessions)
                            .map(([state, count]) => `${humanize(state)}: ${count}`)
                            .join(', ') || 'None'
                        : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : (
            <p className="muted">No gateway shard is configured.</p>
          )}
        </section>
      </div>

      <section className="card stack" aria-labelledby="workers-title">
        <h2 id="workers-title">Workers</h2>
        {data.workers.length ? (
          <Table caption="Workers" captionHidden>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Queues</th>
                <th scope="col">State</th>
                <th scope="col">Current job</th>
                <th scope="col">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {data.workers.map((w) => (
                <tr key={w.name}>
                  <td>
                    {w.name}
                    <div className="muted small">
                      {w.hostname}
                      {w.pid ? ` · pid ${w.pid}` : ''}
                    </div>
                  </td>
                  <td>{w.queues.join(', ')}</td>
                  <td>
                    <Badge tone={w.state === 'busy' ? 'info' : 'neutral'}>{humanize(w.state)}</Badge>
                  </td>
                  <td className="small">{w.current_job ?? '—'}</td>
                  <td>{formatDateTime(w.last_heartbeat)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <p className="muted">No worker is running: jobs wait in their queues.</p>
        )}
      </section>
    </div>
  );
}
