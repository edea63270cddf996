// The business's WhatsApp session (api/routes/whatsapp.py): its state, connecting and the QR code
// to scan. Shared by the WhatsApp page and Settings → WhatsApp; the state stays live through the
// `whatsapp_state` events of GET /api/events.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { useEventStream, type StreamStatus } from '@/lib/event-stream';

export type WhatsAppState = 'stopped' | 'starting' | 'qr' | 'connected' | 'logged_out' | 'failed' | 'unknown';

export type WhatsAppStatus = {
  business_id: number;
  shard_id: number;
  state: WhatsAppState;
  reason: string | null;
  me: { phone: string | null; lid: string | null } | null;
  /** The QR to scan while state is qr (POST /connect answers it). */
  qr?: string | null;
  limited_until: string | null;
  updated_at: string | null;
  gateway_reachable: boolean;
  source: 'gateway' | 'stored' | 'none';
  detail?: string | null;
};

export type WhatsAppQr = { qr: string; expires_at: string };

export const WHATSAPP_STATUS_KEY = ['whatsapp', 'status'] as const;
export const WHATSAPP_QR_KEY = ['whatsapp', 'qr'] as const;

export const getWhatsAppStatus = ({ signal }: { signal?: AbortSignal } = {}) =>
  api.get<WhatsAppStatus>('/api/whatsapp/status', { signal });

// `starting` is a passing state: the gateway reports what follows as an event, but if that event
// is missed (a stream that was down) the page asks again every few seconds until it has passed.
export const STARTING_RECHECK_MS = 3_000;

export const whatsAppStatusQueryOptions = () =>
  queryOptions({
    queryKey: WHATSAPP_STATUS_KEY,
    queryFn: ({ signal }) => getWhatsAppStatus({ signal }),
    refetchInterval: (query) => (query.state.data?.state === 'starting' ? STARTING_RECHECK_MS : false),
  });

export function useWhatsAppStatus() {
  return useQuery(whatsAppStatusQueryOptions());
}

export const getWhatsAppQr = ({ signal }: { signal?: AbortSignal } = {}) =>
  api.get<WhatsAppQr>('/api/whatsapp/qr', { signal });

/** The QR code while the session waits for a scan; fetched again when it expires (WhatsApp rotates it). */
export function useWhatsAppQr(enabled: boolean) {
  return useQuery({
    queryKey: WHATSAPP_QR_KEY,
    queryFn: ({ signal }) => getWhatsAppQr({ signal }),
    enabled,
    staleTime: 0,
    refetchInterval: (query) => {
      const expires = query.state.data ? Date.parse(query.state.data.expires_at) : NaN;
      const left = Number.isFinite(expires) ? expires - Date.now() : 20_000;
      return Math.min(Math.max(left, 2_000), 60_000);
    },
  });
}

export const connectWhatsApp = () => api.post<WhatsAppStatus>('/api/whatsapp/connect');

/** POST /api/whatsapp/connect: (re)start the session; its answer (with the QR when ready) is the state. */
export function useConnectWhatsApp({ onSuccess }: { onSuccess?: (status: WhatsAppStatus) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: connectWhatsApp,
    onSuccess: (status) => {
      queryClient.setQueryData(WHATSAPP_STATUS_KEY, status);
      if (status.qr) {
        queryClient.setQueryData<WhatsAppQr>(WHATSAPP_QR_KEY, {
          qr: status.qr,
          expires_at: new Date(Date.now() + 20_000).toISOString(),
        });
      } else {
        void queryClient.invalidateQueries({ queryKey: WHATSAPP_QR_KEY });
      }
      onSuccess?.(status);
    },
  });
}

const STATES = new Set<string>(['stopped', 'starting', 'qr', 'connected', 'logged_out', 'failed', 'unknown']);

/** Keep the session's state current from the event stream (`whatsapp_state`). */
export function useLiveWhatsAppState(businessId: number | null | undefined): StreamStatus {
  const queryClient = useQueryClient();
  return useEventStream(
    businessId ? '/api/events' : null,
    {
      whatsapp_state: (data) => {
        if (data.business_id !== String(businessId) || !data.state || !STATES.has(data.state)) return;
        const state = data.state as WhatsAppState;
        queryClient.setQueryData<WhatsAppStatus>(WHATSAPP_STATUS_KEY, (old) =>
          old ? { ...old, state, qr: state === 'qr' ? old.qr : null, updated_at: new Date().toISOString() } : old,
        );
        if (state === 'qr') void queryClient.invalidateQueries({ queryKey: WHATSAPP_QR_KEY });
        else queryClient.removeQueries({ queryKey: WHATSAPP_QR_KEY });
        // The event carries the state only: the rest (the phone once connected) is read again.
        void queryClient.invalidateQueries({ queryKey: WHATSAPP_STATUS_KEY });
      },
    },
    // After a reconnect the state may have changed meanwhile: ask again.
    { onOpen: (reconnected) => reconnected && void queryClient.invalidateQueries({ queryKey: WHATSAPP_STATUS_KEY }) },
  );
}
