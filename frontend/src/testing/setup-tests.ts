import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';

import { setCsrfToken } from '@/lib/api-client';

import { FakeEventSource } from './fake-event-source';
import { server } from './mocks/server';

// CI machines are shared: give findBy*/waitFor room before calling a slow render a failure.
configure({ asyncUtilTimeout: 4000 });

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
// jsdom has no EventSource: every test gets the fake one (tests drive it, see the dashboard's).
beforeEach(() => {
  FakeEventSource.reset();
  vi.stubGlobal('EventSource', FakeEventSource);
});
afterEach(() => {
  cleanup();
  server.resetHandlers();
  setCsrfToken(null);
  vi.unstubAllGlobals();
});
afterAll(() => server.close());
