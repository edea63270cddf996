// Start test call → microphone prompt → live status (connecting, talking, agent speaking, ended
// with the reason), mute, hang up. The audio and WebSocket code is loaded only on Start.
import { useCallback, useEffect, useReducer, useRef } from 'react';

import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { env } from '@/config/env';

import { startTestCall, type TestCallGrant } from '../api/start-test-call';
import type { SessionHandlers, TestCallSession } from '../call/session';
import { grantStreamUrl } from '../protocol/media-streams';

import { IDLE, microphoneProblem, reduce, startProblem, type CallState } from './call-state';

export type CallDeps = {
  getMicrophone: () => Promise<MediaStream>;
  start: (businessId: number | null) => Promise<TestCallGrant>;
  open: (grant: TestCallGrant, microphone: MediaStream, handlers: SessionHandlers) => Promise<TestCallSession>;
};

const browserDeps: CallDeps = {
  getMicrophone: () =>
    navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    }),
  start: (businessId) => startTestCall(businessId),
  open: async (grant, microphone, handlers) => {
    const { openSession } = await import('../call/session');
    return openSession({
      url: grantStreamUrl(grant, env.API_URL, window.location.origin),
      callSid: grant.call_sid,
      parameters: grant.parameters,
      microphone,
      handlers,
    });
  },
};

function Status({ state }: { state: CallState }) {
  switch (state.phase) {
    case 'idle':
      return null;
    case 'permission':
      return <Badge tone="info">Allow the microphone…</Badge>;
    case 'starting':
    case 'connecting':
      return <Badge tone="info">Connecting…</Badge>;
    case 'talking':
      return state.agentSpeaking ? (
        <Badge tone="brand">Agent speaking</Badge>
      ) : (
        <Badge tone="ok">
          <span className="dot live-dot" aria-hidden /> Talking{state.muted ? ' (muted)' : ''}
        </Badge>
      );
    case 'ended':
      return null;
  }
}

export function TestCallPanel({ businessId = null, deps = browserDeps }: { businessId?: number | null; deps?: CallDeps }) {
  const [state, dispatch] = useReducer(reduce, IDLE);
  const session = useRef<TestCallSession | null>(null);
  const microphone = useRef<MediaStream | null>(null);
  const live = state.phase !== 'idle' && state.phase !== 'ended';

  const release = () => {
    microphone.current?.getTracks().forEach((track) => track.stop());
    microphone.current = null;
  };

  const start = useCallback(async () => {
    dispatch({ type: 'start' });
    let mic: MediaStream;
    try {
      mic = await deps.getMicrophone();
    } catch (error) {
      dispatch({ type: 'failed', message: microphoneProblem(error) });
      return;
    }
    microphone.current = mic;
    dispatch({ type: 'permitted' });
    let grant: TestCallGrant;
    try {
      grant = await deps.start(businessId);
    } catch (error) {
      release();
      dispatch({ type: 'failed', message: startProblem(error) });
      return;
    }
    dispatch({ type: 'admitted' });
    try {
      session.current = await deps.open(grant, mic, {
        onTalking: () => dispatch({ type: 'talking' }),
        onAgentSpeaking: (speaking) => dispatch({ type: 'agent_speaking', speaking }),
        onEnded: (ending) => {
          session.current = null;
          release();
          dispatch({ type: 'ended', ending });
        },
      });
    } catch {
      release();
      dispatch({ type: 'failed', message: 'This browser could not start the call audio (AudioWorklet is needed).' });
    }
  }, [businessId, deps]);

  // Leaving the page hangs up.
  useEffect(
    () => () => {
      session.current?.hangUp();
      release();
    },
    [],
  );

  return (
    <section className="row" style={{ gap: 8, flexWrap: 'wrap' }} aria-label="Test call">
      {live ? (
        <>
          <span role="status" aria-live="polite">
            <Status state={state} />
          </span>
          {state.phase === 'talking' ? (
            <Button
              variant="secondary"
              size="sm"
              aria-pressed={state.muted}
              onClick={() => {
                session.current?.setMuted(!state.muted);
                dispatch({ type: 'mute', muted: !state.muted });
              }}
            >
              {state.muted ? 'Unmute' : 'Mute'}
            </Button>
          ) : null}
          <Button
            variant="danger"
            size="sm"
            disabled={state.phase !== 'talking' && state.phase !== 'connecting'}
            onClick={() => session.current?.hangUp()}
          >
            Hang up
          </Button>
        </>
      ) : (
        <>
          {state.phase === 'ended' ? (
            <span role={state.isError ? 'alert' : 'status'} className={state.isError ? 'alert alert-error small' : 'muted small'}>
              {state.message}
            </span>
          ) : null}
          <Button variant="secondary" onClick={() => void start()}>
            {state.phase === 'ended' ? 'Start another test call' : 'Start test call'}
          </Button>
        </>
      )}
    </section>
  );
}
