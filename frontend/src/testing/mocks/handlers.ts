// Default API answers for tests: a logged-out browser. Tests add their own with server.use().
import { http, HttpResponse } from 'msw';

import { makeDashboard } from '../dashboard-data';

export const apiError = (status: number, code: string, message: string, details: unknown = null) =>
  HttpResponse.json({ error: { code, message, details } }, { status });

export const handlers = [
  http.get('*/api/auth/me', () => apiError(401, 'not_authenticated', 'log in first')),
  http.get('*/api/dashboard', () => HttpResponse.json(makeDashboard())),
];
