import { Badge, type Tone } from '@/components/ui/badge';
import { humanize } from '@/utils/format';

import type { CallStatus } from '../api/types';

const TONES: Partial<Record<CallStatus, Tone>> = {
  completed: 'ok',
  'in-progress': 'info',
  ringing: 'info',
  queued: 'neutral',
  initiated: 'neutral',
  busy: 'warn',
  'no-answer': 'warn',
  canceled: 'warn',
  failed: 'danger',
  rejected: 'danger',
};

export function CallStatusBadge({ status }: { status: CallStatus }) {
  return <Badge tone={TONES[status] ?? 'neutral'}>{humanize(status)}</Badge>;
}
