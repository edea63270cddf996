import { Badge, type Tone } from '@/components/ui/badge';

import type { BroadcastStatus, Progress } from '../api/types';

const TONE: Record<BroadcastStatus, Tone> = {
  accepted: 'neutral',
  running: 'info',
  paused: 'warn',
  completed: 'ok',
  cancelled: 'neutral',
  failed: 'danger',
};
const LABEL: Record<BroadcastStatus, string> = {
  accepted: 'Not started',
  running: 'Sending',
  paused: 'Paused',
  completed: 'Completed',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export function BroadcastStatusBadge({ status }: { status: BroadcastStatus }) {
  return <Badge tone={TONE[status]}>{LABEL[status]}</Badge>;
}

const percent = (part: number, total: number) => (total ? (100 * part) / total : 0);

/** A bar of sent, failed and skipped against the total; the numbers themselves are in the text. */
export function ProgressBar({ progress }: { progress: Progress }) {
  const { total, sent, failed, skipped } = progress;
  const done = sent + failed + skipped;
  return (
    <div
      className="progress-bar"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={done}
      aria-valuetext={`${done} of ${total} done`}
      aria-label="Progress"
    >
      <span className="sent" style={{ width: `${percent(sent, total)}%` }} />
      <span className="failed" style={{ width: `${percent(failed, total)}%` }} />
      <span className="skipped" style={{ width: `${percent(skipped, total)}%` }} />
    </div>
  );
}
