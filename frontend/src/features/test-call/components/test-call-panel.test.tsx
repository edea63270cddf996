import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';

import { ApiError } from '@/lib/api-client';
import { makeDashboard } from '@/testing/dashboard-data';
import { makeUser } from '@/testing/data';
import { FakeEventSource } from '@/testing/fake-event-source';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp } from '@/testing/test-utils';

import type { TestCallGrant } from '../api/start-test-call';
import type { SessionHandlers, TestCallSession } from '../call/session';
import { describeClose } from '../protocol/media-streams';

import { TestCallPanel, type CallDeps } from './test-call-panel';

const GRANT: TestCallGrant = {
  call_sid: `CA${'b0'.repeat(16)}`,
  ws_path: '/ws/browser?access=v1.x',
  parameters: { business_id: '1', token: 't', direction: 'inbound', from: '+1555', to: '+1555', test: '1' },
  expires_at: '2026-12-07T02:00:00+00:00',
};

function fakeMicrophone() {
  const track = { stop: vi.fn() };
  return { stream: { getTracks: () => [track] } as unknown as MediaStream, track };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(overrides: Partial<CallDeps> = {}) {
  const mic = fakeMicrophone();
  const session = { setMuted: vi.fn(), hangUp: vi.fn() } satisfies TestCallSession;
  let handlers: SessionHandlers | null = null;
  const deps: CallDeps = {
    getMicrophone: vi.fn(() => Promise.resolve(mic.stream)),
    start: vi.fn(() => Promise.resolve(GRANT)),
    open: vi.fn((_grant: TestCallGrant, _mic: MediaStream, h: SessionHandlers) => {
      handlers = h;
      return Promise.resolve(session);
    }),
    ...overrides,
  };
  const user = userEvent.setup();
  render(<TestCallPanel deps={deps} businessId={null} />);
  return { deps, mic, session, user, handlers: () => handlers! };
}

describe('TestCallPanel', () => {
  it('asks for the microphone first, then starts the call, connects and talks', async () => {
    const micPrompt = deferred<MediaStream>();
    const mic = fakeMicrophone();
    const { deps, user, handlers, session } = setup({ getMicrophone: vi.fn(() => micPrompt.promise) });
    await user.click(screen.getByRole('button', { name: 'Start test call' }));
    expect(screen.getByText('Allow the microphone…')).toBeInTheDocument();
    expect(deps.start).not.toHaveBeenCalled(); // the token's clock starts after the prompt
    await act(() => {
      micPrompt.resolve(mic.stream);
      return micPrompt.promise;
    });
    expect(deps.start).toHaveBeenCalledWith(null);
    expect(deps.open).toHaveBeenCalledWith(GRANT, mic.stream, expect.anything());
    expect(screen.getByText('Connecting…')).toBeInTheDocument();
    act(() => handlers().onTalking());
    expect(screen.getByText(/Talking/)).toBeInTheDocument();
    act(() => handlers().onAgentSpeaking(true));
    expect(screen.getByText('Agent speaking')).toBeInTheDocument();
    act(() => handlers().onAgentSpeaking(false));
    await user.click(screen.getByRole('button', { name: 'Mute' }));
    expect(session.setMuted).toHaveBeenCalledWith(true);
    expect(screen.getByRole('button', { name: 'Unmute' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByText(/Talking \(muted\)/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Hang up' }));
    expect(session.hangUp).toHaveBeenCalled();
    act(() => handlers().onEnded(describeClose(1000, 'caller hung up', true)));
    expect(screen.getByRole('status')).toHaveTextContent('You hung up.');
    expect(mic.track.stop).toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Start another test call' })).toBeEnabled();
  });

  it('shows the agent hanging up as the end of the call', async () => {
    const { user, handlers } = setup();
    await user.click(screen.getByRole('button', { name: 'Start test call' }));
    await waitFor(() => expect(screen.getByText('Connecting…')).toBeInTheDocument());
    act(() => handlers().onTalking());
    act(() => handlers().onEnded(describeClose(1000, 'brain finished', false)));
    expect(screen.getByRole('status')).toHaveTextContent('The agent hung up.');
  });

  it('says clearly when the microphone is denied, and starts no call', async () => {
    const denied = new DOMException('Permission denied', 'NotAllowedError');
    const { deps, user } = setup({ getMicrophone: vi.fn(() => Promise.reject(denied)) });
    await user.click(screen.getByRole('button', { name: 'Start test call' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Microphone access was denied');
    expect(deps.start).not.toHaveBeenCalled();
  });

  it.each([
    [new ApiError(429, 'business_limit', 'x', null, 5), 'All of your lines are in use'],
    [new ApiError(429, 'capacity', 'x', null, 5), 'Every line of the service is busy. Try again in 5 seconds.'],
    [new ApiError(409, 'no_capacity', 'x'), 'No calls service is running'],
  ])('says why the service refused the call (%s)', async (error, message) => {
    const { mic, deps, user } = setup({ start: vi.fn(() => Promise.reject(error)) });
    await user.click(screen.getByRole('button', { name: 'Start test call' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(message);
    expect(mic.track.stop).toHaveBeenCalled(); // the microphone is released
    expect(deps.open).not.toHaveBeenCalled();
  });

  it('a connection refused before it opened reads as expired or busy', async () => {
    const { user, handlers } = setup();
    await user.click(screen.getByRole('button', { name: 'Start test call' }));
    await waitFor(() => expect(screen.getByText('Connecting…')).toBeInTheDocument());
    act(() => handlers().onEnded(describeClose(1006, '', false)));
    expect(screen.getByRole('alert')).toHaveTextContent('the test call may have expired or all lines are busy');
  });

  it('an error after the call started is shown as an error', async () => {
    const { user, handlers } = setup();
    await user.click(screen.getByRole('button', { name: 'Start test call' }));
    await waitFor(() => expect(screen.getByText('Connecting…')).toBeInTheDocument());
    act(() => handlers().onTalking());
    act(() => handlers().onEnded(describeClose(1001, 'server shutting down', false)));
    expect(screen.getByRole('alert')).toHaveTextContent('The calls service is restarting');
  });
});

describe('the dashboard’s test call', () => {
  beforeEach(() => {
    FakeEventSource.reset();
    vi.stubGlobal('EventSource', FakeEventSource);
    server.use(http.get('*/api/dashboard', () => HttpResponse.json(makeDashboard())));
  });
  afterEach(() => vi.unstubAllGlobals());

  it('is offered to owners and admins', async () => {
    logIn(makeUser({ role: 'admin' }));
    await renderApp('/');
    expect(await screen.findByRole('button', { name: 'Start test call' })).toBeInTheDocument();
  });

  it('is not offered to agents', async () => {
    logIn(makeUser({ role: 'agent' }));
    await renderApp('/');
    await screen.findByTestId('active-calls-value');
    expect(screen.queryByRole('button', { name: 'Start test call' })).not.toBeInTheDocument();
  });

  it('posts /api/test-calls with the CSRF header when started', async () => {
    logIn(makeUser({ role: 'owner' }));
    let csrf: string | null = null;
    server.use(
      http.post('*/api/test-calls', ({ request }) => {
        csrf = request.headers.get('X-CSRF-Token');
        return HttpResponse.json({ error: { code: 'business_limit', message: 'busy' } }, { status: 429, headers: { 'Retry-After': '5' } });
      }),
    );
    const mic = fakeMicrophone();
    Object.defineProperty(navigator, 'mediaDevices', {
      configurable: true,
      value: { getUserMedia: vi.fn(() => Promise.resolve(mic.stream)) },
    });
    const { user } = await renderApp('/');
    await user.click(await screen.findByRole('button', { name: 'Start test call' }));
    expect(await screen.findByText(/All of your lines are in use/)).toBeInTheDocument();
    expect(csrf).toBe('csrf-test-token');
    expect(mic.track.stop).toHaveBeenCalled();
  });
});
