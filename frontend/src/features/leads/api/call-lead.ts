// POST /api/calls/outbound {lead_id} (api/routes/calls.py): Twilio dials the lead from the
// business number; the receptionist talks when they answer. Answers the new call (status queued).
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type DialledCall = { id: number; call_sid: string; status: string };

export const callLead = (leadId: number) => api.post<DialledCall>('/api/calls/outbound', { lead_id: leadId });

export function useCallLead({ onSuccess }: { onSuccess?: (call: DialledCall) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: callLead,
    onSuccess: (call, leadId) => {
      void queryClient.invalidateQueries({ queryKey: ['leads', 'timeline', leadId] });
      onSuccess?.(call);
    },
  });
}
