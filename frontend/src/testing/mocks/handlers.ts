// Default API answers for tests: a logged-out browser. Tests add their own with server.use().
import { http, HttpResponse } from 'msw';

import { makeDashboard } from '../dashboard-data';

export const apiError = (status: number, code: string, message: string, details: unknown = null) =>
  HttpResponse.json({ error: { code, message, details } }, { status });

const emptyPage = { items: [], page: 1, per_page: 25, total: 0, pages: 0 };

export const handlers = [
  http.get('*/api/auth/me', () => apiError(401, 'not_authenticated', 'log in first')),
  http.get('*/api/dashboard', () => HttpResponse.json(makeDashboard())),
  http.get('*/api/calls', () => HttpResponse.json(emptyPage)),
  http.get('*/api/leads', () => HttpResponse.json(emptyPage)),
];
