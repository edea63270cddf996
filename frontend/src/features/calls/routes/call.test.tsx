import { within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import { makeCall } from '@/testing/calls-data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { logIn, renderApp, screen } from '@/testing/test-utils';

const detail = {
  ...makeCall({ id: 5 }),
  transcript: [
    { speaker: 'agent', text: 'Thanks for calling Demo, how can I help?', interrupted: false },
    { speaker: 'caller', heard: 'quote', text: 'I would like a quote', expect: 'free' },
    { speaker: 'agent', text: 'Sure, for which', interrupted: true, heard_ms: 1500 },
    { speaker: 'caller', dtmf: '3' },
    { speaker: 'caller', text: '…' },
  ],
  events: { dtmf: [{ digit: '3', at_ms: 12000 }, { digit: '#', at_ms: 15500 }] },
};

describe('call detail', () => {
  beforeEach(() => logIn());

  it('plays the recording and shows the transcript with barge-ins and key presses marked', async () => {
    server.use(http.get('*/api/calls/5', () => HttpResponse.json(detail)));
    const { user } = await renderApp('/calls/5');
    expect(await screen.findByRole('heading', { level: 1, name: 'Dana Lead' })).toBeInTheDocument();
    const audio = document.querySelector('audio');
    expect(audio).toHaveAttribute('src', '/api/calls/5/recording');
    const play = vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);

    const transcript = screen.getByRole('list', { name: 'Transcript' });
    const items = within(transcript).getAllByRole('listitem');
    expect(items).toHaveLength(6);
    expect(items[2]).toHaveTextContent('Barge-in after 0:01');
    expect(items[3]).toHaveTextContent('Caller pressed 3');
    expect(items[4]).toHaveTextContent('(not transcribed)');
    expect(items[5]).toHaveTextContent('Caller pressed #');
    expect(within(screen.getByRole('region', { name: 'Details' })).getByText('1', { selector: 'dd' })).toBeInTheDocument();

    await user.click(within(items[5]!).getByRole('button', { name: /at 0:15/ }));
    expect(audio!.currentTime).toBe(15.5);
    expect(play).toHaveBeenCalled();
  });

  it('says so when the call has no recording or transcript', async () => {
    server.use(http.get('*/api/calls/6', () => HttpResponse.json({ ...makeCall({ id: 6, has_recording: false }), transcript: [], events: {} })));
    await renderApp('/calls/6');
    expect(await screen.findByText('This call has no recording.')).toBeInTheDocument();
    expect(screen.getByText('No transcript was recorded for this call.')).toBeInTheDocument();
    expect(document.querySelector('audio')).toBeNull();
  });

  it('shows a missing call as not found', async () => {
    server.use(http.get('*/api/calls/9', () => apiError(404, 'not_found', 'no call 9')));
    await renderApp('/calls/9');
    expect(await screen.findByText(/could not be found/)).toBeInTheDocument();
  });
});
