import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';

import { setCsrfToken } from '@/lib/api-client';

import { server } from './mocks/server';

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  setCsrfToken(null);
});
afterAll(() => server.close());
