import { act, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';

import type { Lead } from '@/features/leads/api/types';
import { leadPage, makeLead } from '@/testing/leads-data';
import { apiError } from '@/testing/mocks/handlers';
import { server } from '@/testing/mocks/server';
import { CSRF, logIn, renderApp, screen } from '@/testing/test-utils';

// jsdom lays nothing out: give the board's columns side-by-side boxes (300 px apart) and each
// card its column's box, so dnd-kit's collision detection sees where a card is dropped.
function layOutBoard() {
  return vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(function (this: Element) {
    const column = this.closest('[data-column-index]');
    const index = Number(column?.getAttribute('data-column-index') ?? 0);
    const card = this.closest('[data-lead-id]');
    const left = index * 300 + (card ? 10 : 0);
    const top = card ? 60 : 0;
    const width = card ? 260 : 280;
    const height = card ? 80 : 600;
    return { x: left, y: top, left, top, width, height, right: left + width, bottom: top + height, toJSON: () => ({}) };
  });
}

function column(name: string) {
  return screen.getByRole('region', { name });
}

describe('lead board', () => {
  let leads: Lead[];
  let patches: { id: string; body: unknown; csrf: string | null }[];
  let answerPatch: (() => Response) | null;
  let releasePatch: () => void;
  // While set, GET /api/leads waits: what the board shows then is its own cache, not a refetch.
  let listsHeld: Promise<void> | null;
  let releaseLists: () => void;

  beforeEach(() => {
    logIn();
    leads = [
      makeLead({ id: 1, name: 'Dana Lead', status: 'new' }),
      makeLead({ id: 2, name: 'Eli Buyer', status: 'contacted', phone_e164: '+15551230002' }),
    ];
    patches = [];
    answerPatch = null;
    listsHeld = null;
    releaseLists = () => undefined;
    let gate = Promise.resolve();
    releasePatch = () => undefined;
    gate = new Promise((resolve) => {
      releasePatch = resolve;
    });
    server.use(
      http.get('*/api/leads', async ({ request }) => {
        await listsHeld;
        return HttpResponse.json(leadPage(leads, new URL(request.url)));
      }),
      http.patch('*/api/leads/:id', async ({ request, params }) => {
        const body = (await request.json()) as { status: Lead['status'] };
        patches.push({ id: String(params.id), body, csrf: request.headers.get('X-CSRF-Token') });
        await gate;
        if (answerPatch) return answerPatch();
        leads = leads.map((lead) => (lead.id === Number(params.id) ? { ...lead, status: body.status } : lead));
        return HttpResponse.json(leads.find((lead) => lead.id === Number(params.id)));
      }),
    );
    layOutBoard();
  });

  async function dragWithKeyboard(user: Awaited<ReturnType<typeof renderApp>>['user'], name: string, columnsRight: number) {
    screen.getByRole('button', { name: `Drag ${name}` }).focus();
    await user.keyboard('[Space]');
    for (let i = 0; i < columnsRight * 12; i++) await user.keyboard('[ArrowRight]');
    await user.keyboard('[Space]');
  }

  it('moves a dragged lead at once and PATCHes its status', async () => {
    const { user } = await renderApp('/leads/board');
    expect(await within(column('New')).findByText('Dana Lead')).toBeInTheDocument();

    await dragWithKeyboard(user, 'Dana Lead', 2);
    // Optimistic: in Qualified before the server answered.
    expect(within(column('Qualified')).getByText('Dana Lead')).toBeInTheDocument();
    expect(within(column('New')).queryByText('Dana Lead')).not.toBeInTheDocument();
    expect(within(column('Qualified')).getByLabelText('1 leads')).toBeInTheDocument();
    await waitFor(() => expect(patches).toEqual([{ id: '1', body: { status: 'qualified' }, csrf: CSRF }]));

    act(() => releasePatch());
    await waitFor(() => expect(leads[0]?.status).toBe('qualified'));
    expect(await within(column('Qualified')).findByText('Dana Lead')).toBeInTheDocument();
    expect(within(column('New')).getByText('No leads. Drop one here.')).toBeInTheDocument();
  });

  it('puts the lead back and says why when the server refuses', async () => {
    answerPatch = () => apiError(409, 'conflict', 'the lead was merged into another');
    const { user } = await renderApp('/leads/board');
    await within(column('New')).findByText('Dana Lead');

    await dragWithKeyboard(user, 'Dana Lead', 3);
    expect(within(column('Won')).getByText('Dana Lead')).toBeInTheDocument();

    listsHeld = new Promise((resolve) => {
      releaseLists = resolve;
    });
    act(() => releasePatch());
    expect(await screen.findByText(/Could not move Dana Lead: the lead was merged into another/)).toBeInTheDocument();
    // Rolled back from the snapshot, not by a refetch (the lists are held).
    expect(within(column('New')).getByText('Dana Lead')).toBeInTheDocument();
    expect(within(column('Won')).queryByText('Dana Lead')).not.toBeInTheDocument();
    expect(within(column('Won')).getByLabelText('0 leads')).toBeInTheDocument();
    expect(patches).toHaveLength(1);
    act(() => releaseLists());
  });

  it('does nothing when a lead is dropped back on its own column', async () => {
    const { user } = await renderApp('/leads/board');
    await within(column('Contacted')).findByText('Eli Buyer');
    await dragWithKeyboard(user, 'Eli Buyer', 0);
    expect(within(column('Contacted')).getByText('Eli Buyer')).toBeInTheDocument();
    expect(patches).toEqual([]);
  });

  it('moves a lead with the menu as well', async () => {
    const { user } = await renderApp('/leads/board');
    await within(column('New')).findByText('Dana Lead');
    await user.selectOptions(screen.getByLabelText('Move Dana Lead to'), 'lost');
    expect(within(column('Lost')).getByText('Dana Lead')).toBeInTheDocument();
    act(() => releasePatch());
    await waitFor(() => expect(patches).toEqual([{ id: '1', body: { status: 'lost' }, csrf: CSRF }]));
  });
});
