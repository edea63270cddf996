import { Badge, type Tone } from '@/components/ui/badge';

import { STATUS_LABELS, type LeadStatus } from '../api/types';

const TONES: Record<LeadStatus, Tone> = { new: 'info', contacted: 'brand', qualified: 'warn', won: 'ok', lost: 'neutral' };

export function LeadStatusBadge({ status }: { status: LeadStatus }) {
  return <Badge tone={TONES[status]}>{STATUS_LABELS[status]}</Badge>;
}
