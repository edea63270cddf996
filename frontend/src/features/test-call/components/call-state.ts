// The test call's states and what moves between them (pure; the panel renders them).
import { isApiError } from '@/lib/api-client';

import type { CallEnding } from '../protocol/media-streams';

export type CallState =
  | { phase: 'idle' }
  | { phase: 'permission' } // waiting for the microphone prompt
  | { phase: 'starting' } // POST /api/test-calls
  | { phase: 'connecting' } // the WebSocket to the calls service
  | { phase: 'talking'; agentSpeaking: boolean; muted: boolean }
  | { phase: 'ended'; message: string; isError: boolean };

export type CallAction =
  | { type: 'start' }
  | { type: 'permitted' }
  | { type: 'admitted' }
  | { type: 'talking' }
  | { type: 'agent_speaking'; speaking: boolean }
  | { type: 'mute'; muted: boolean }
  | { type: 'ended'; ending: CallEnding }
  | { type: 'failed'; message: string };

export const IDLE: CallState = { phase: 'idle' };

export function reduce(state: CallState, action: CallAction): CallState {
  switch (action.type) {
    case 'start':
      return state.phase === 'idle' || state.phase === 'ended' ? { phase: 'permission' } : state;
    case 'permitted':
      return state.phase === 'permission' ? { phase: 'starting' } : state;
    case 'admitted':
      return state.phase === 'starting' ? { phase: 'connecting' } : state;
    case 'talking':
      return state.phase === 'connecting' ? { phase: 'talking', agentSpeaking: false, muted: false } : state;
    case 'agent_speaking':
      return state.phase === 'talking' ? { ...state, agentSpeaking: action.speaking } : state;
    case 'mute':
      return state.phase === 'talking' ? { ...state, muted: action.muted } : state;
    case 'ended':
      if (state.phase === 'idle' || state.phase === 'ended') return state;
      // Closed before it ever opened: the calls service refused the handshake (the browser is
      // not told why: an expired or refused access token, or every line busy).
      if (state.phase === 'connecting' && action.ending.code === 1006) {
        return {
          phase: 'ended',
          isError: true,
          message:
            'The calls service refused the connection: the test call may have expired or all lines are busy. Start a new test call.',
        };
      }
      return { phase: 'ended', message: action.ending.message, isError: action.ending.isError };
    case 'failed':
      return state.phase === 'idle' ? state : { phase: 'ended', message: action.message, isError: true };
  }
}

/** Why the microphone could not be used, for people. */
export function microphoneProblem(error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Microphone access was denied. Allow the microphone for this site in your browser, then try again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return 'No microphone was found. Connect one, then try again.';
  }
  if (name === 'NotReadableError') return 'The microphone is in use by another application.';
  return 'The microphone could not be opened.';
}

/** Why POST /api/test-calls refused, for people. */
export function startProblem(error: unknown): string {
  if (isApiError(error)) {
    switch (error.code) {
      case 'business_limit':
        return 'All of your lines are in use (your maximum concurrent calls). Try again when a call ends.';
      case 'capacity':
        return `Every line of the service is busy. Try again in ${error.retryAfterSeconds ?? 5} seconds.`;
      case 'no_capacity':
        return 'No calls service is running, so the agent cannot take a call right now.';
      case 'business_inactive':
        return 'This business is inactive and takes no calls.';
      case 'test_calls_not_configured':
        return 'Test calls are not set up on this server (INTERNAL_SECRET).';
      case 'role_required':
        return 'Only owners and admins can start a test call.';
      default:
        return error.message;
    }
  }
  return 'The test call could not be started. Please try again.';
}
