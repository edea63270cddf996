// Calls per hour over the last 24 hours: stacked SVG bars (answered, rejected), with the same
// numbers in a table for screen readers.
import { formatTime } from '@/utils/format';

import type { HourCount } from '../api/get-dashboard';

const WIDTH = 720;
const HEIGHT = 180;
const AXIS = 2;

export function CallsChart({ hours }: { hours: HourCount[] }) {
  const max = Math.max(1, ...hours.map((h) => h.answered + h.rejected));
  const slot = WIDTH / Math.max(hours.length, 1);
  const bar = Math.max(2, slot * 0.7);
  const scale = (HEIGHT - AXIS - 8) / max;
  const total = hours.reduce((sum, h) => sum + h.answered + h.rejected, 0);
  return (
    <figure style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={`Calls per hour, last 24 hours: ${total} in total`} preserveAspectRatio="none" style={{ height: 160, display: 'block' }}>
        <line x1={0} x2={WIDTH} y1={HEIGHT - AXIS} y2={HEIGHT - AXIS} stroke="var(--border)" />
        {hours.map((h, i) => {
          const x = i * slot + (slot - bar) / 2;
          const answered = h.answered * scale;
          const rejected = h.rejected * scale;
          const base = HEIGHT - AXIS;
          return (
            <g key={h.hour}>
              <title>{`${formatTime(h.hour)}: ${h.answered} answered, ${h.rejected} rejected`}</title>
              <rect x={x} y={base - answered} width={bar} height={answered} fill="var(--brand)" rx={2} />
              <rect x={x} y={base - answered - rejected} width={bar} height={rejected} fill="var(--danger)" rx={2} />
            </g>
          );
        })}
      </svg>
      {/* Hour labels in HTML, not in the stretched SVG, so the text keeps its shape. */}
      <div className="chart-axis small muted" aria-hidden>
        {hours.map((h, i) =>
          i % 6 === 0 || i === hours.length - 1 ? (
            <span
              key={h.hour}
              className={i % 12 === 6 ? 'chart-tick-minor' : undefined}
              style={{ left: `${((i + 0.5) / hours.length) * 100}%` }}
            >
              {formatTime(h.hour)}
            </span>
          ) : null,
        )}
      </div>
      <figcaption className="row small muted" style={{ marginTop: 8 }}>
        <span className="row" style={{ gap: 6 }}>
          <span className="dot" style={{ color: 'var(--brand)' }} aria-hidden /> Answered
        </span>
        <span className="row" style={{ gap: 6 }}>
          <span className="dot" style={{ color: 'var(--danger)' }} aria-hidden /> Rejected
        </span>
      </figcaption>
      <table className="visually-hidden">
        <caption>Calls per hour</caption>
        <thead>
          <tr>
            <th scope="col">Hour</th>
            <th scope="col">Answered</th>
            <th scope="col">Rejected</th>
          </tr>
        </thead>
        <tbody>
          {hours.map((h) => (
            <tr key={h.hour}>
              <td>{formatTime(h.hour)}</td>
              <td>{h.answered}</td>
              <td>{h.rejected}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
