// The API's server-sent events (GET /api/events, api/routes/events.py) as a React hook.
//
// The browser's own EventSource retry waits a fixed time and never gives up; here a lost stream
// is closed and opened again after an exponential, jittered backoff (VITE_APP_EVENTS_RETRY_*),
// and the hook says "reconnecting" meanwhile. Before each retry the session is checked once
// (GET /api/auth/me through the API client), so an ended session leads to the login page
// instead of endless retries. A new EventSource cannot send Last-Event-ID, so `onOpen` tells
// the caller whether this is a reconnect: it refetches its snapshot to catch up.
import { useEffect, useEffectEvent, useState } from 'react';

import { env } from '@/config/env';
import { api, apiUrl, isApiError } from '@/lib/api-client';

export type StreamStatus = 'connecting' | 'open' | 'reconnecting';

export type StreamHandlers = Record<string, (data: Record<string, string>, id: string) => void>;

/** The wait before retry number `attempt` (0-based): doubling from min to max, 50–100 % jitter. */
export function backoffDelay(attempt: number, minMs = env.EVENTS_RETRY_MIN_MS, maxMs = env.EVENTS_RETRY_MAX_MS, random = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling * (0.5 + random() / 2));
}

function parse(data: unknown): Record<string, string> {
  if (typeof data !== 'string' || !data) return {};
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function useEventStream(
  path: string | null,
  handlers: StreamHandlers,
  { onOpen }: { onOpen?: (reconnected: boolean) => void } = {},
): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const dispatch = useEffectEvent((type: string, event: MessageEvent) => {
    handlers[type]?.(parse(event.data), event.lastEventId);
  });
  const opened = useEffectEvent((reconnected: boolean) => onOpen?.(reconnected));
  const names = Object.keys(handlers).sort().join(',');

  useEffect(() => {
    if (path === null) return undefined;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let everOpened = false;
    let stopped = false;

    const retry = () => {
      source?.close();
      source = null;
      if (stopped) return;
      setStatus('reconnecting');
      const delay = backoffDelay(attempt);
      attempt += 1;
      timer = setTimeout(() => {
        // A 401 here sends the user to the login page (the API client's handler).
        api.get('/api/auth/me').then(connect, (error: unknown) => {
          if (!isApiError(error, 401)) retry();
        });
      }, delay);
    };

    const connect = () => {
      if (stopped) return;
      const es = new EventSource(apiUrl(path), { withCredentials: true });
      source = es;
      es.onopen = () => {
        attempt = 0;
        setStatus('open');
        opened(everOpened);
        everOpened = true;
      };
      es.onerror = retry;
      // The server's last word (too many streams, shutdown, session ended): try again later.
      es.addEventListener('closed', retry);
      for (const type of names.split(',').filter(Boolean)) {
        es.addEventListener(type, (event) => dispatch(type, event));
      }
    };

    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [path, names]);

  return status;
}
