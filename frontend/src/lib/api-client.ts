// The one HTTP client of the app. Every request carries the session cookie; every state-changing
// request carries the session's CSRF token (X-CSRF-Token, api/security.py), refreshed once from
// GET /api/auth/me when the server says it is stale. Error bodies ({"error": {code, message,
// details}}, api/errors.py) become ApiError; a 401 sends the user to the login page, which brings
// them back to where they were.
import { env } from '@/config/env';
import { paths } from '@/config/paths';

export const CSRF_HEADER = 'X-CSRF-Token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ME_PATH = '/api/auth/me';

/** One problem with one field of a refused body or query (details of invalid_body/invalid_query). */
export type FieldProblem = { field: string; problem: string; type?: string };

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    /** Stable, for programs: not_authenticated, csrf_failed, invalid_body, network_error… */
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    /** From Retry-After (429, 503), in seconds. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }

  /** The per-field problems of a 422, when the server named them. */
  get fieldProblems(): FieldProblem[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is FieldProblem =>
        typeof d === 'object' && d !== null && typeof (d as FieldProblem).field === 'string',
    );
  }
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}

type Query = Record<string, string | number | boolean | null | undefined>;

export type RequestOptions = {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** JSON-serialised unless it is FormData (uploads). */
  body?: unknown;
  /** Query parameters; null, undefined and "" are left out. */
  params?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** false for the requests that find out whether there is a session (me, login). */
  redirectOnUnauthorized?: boolean;
};

let csrfToken: string | null = null;

/** Remember the session's CSRF token (from login or GET /api/auth/me); null after logout. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

function currentLocation(): string {
  const { pathname, search, hash } = window.location;
  return `${pathname}${search}${hash}`;
}

type UnauthorizedHandler = (next: string) => void;
let unauthorizedHandler: UnauthorizedHandler = (next) => {
  window.location.assign(paths.login.getHref(next));
};

/** What a 401 does (the router installs a client-side navigation); returns the previous handler. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): UnauthorizedHandler {
  const previous = unauthorizedHandler;
  unauthorizedHandler = handler;
  return previous;
}

/** An absolute or same-origin URL of the API, for fetch, <audio src> and EventSource. */
export function apiUrl(path: string, params?: Query): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const query = search.toString();
  return `${env.API_URL}${path}${query ? `?${query}` : ''}`;
}

function retryAfter(response: Response): number | null {
  const value = response.headers.get('Retry-After');
  if (value === null) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : null;
}

async function toApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  const error =
    typeof parsed === 'object' && parsed !== null && 'error' in parsed
      ? parsed.error
      : null;
  if (typeof error === 'object' && error !== null) {
    const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
    return new ApiError(
      response.status,
      typeof code === 'string' ? code : `http_${response.status}`,
      typeof message === 'string' && message ? message : response.statusText || `HTTP ${response.status}`,
      details ?? null,
      retryAfter(response),
    );
  }
  const generic =
    response.status >= 500
      ? 'The server is having trouble right now. Please try again in a moment.'
      : `The request failed (HTTP ${response.status}).`;
  return new ApiError(response.status, `http_${response.status}`, generic, null, retryAfter(response));
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (!SAFE_METHODS.has(method) && csrfToken) headers[CSRF_HEADER] = csrfToken;
  try {
    return await fetch(apiUrl(path, options.params), {
      method,
      headers,
      body,
      credentials: 'include',
      signal: options.signal,
    });
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection and try again.');
  }
}

async function refreshCsrfToken(signal?: AbortSignal): Promise<boolean> {
  const response = await send(ME_PATH, { signal });
  if (!response.ok) return false;
  const data = (await response.json()) as { csrf_token?: string | null };
  setCsrfToken(data.csrf_token ?? null);
  return Boolean(data.csrf_token);
}

/** Send a request; resolves with the parsed JSON body (undefined for 204), rejects with ApiError. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  let response = await send(path, options);
  if (response.status === 403 && !SAFE_METHODS.has(method)) {
    const error = await toApiError(response.clone());
    // The token is per session: a new login in another tab replaced it. Fetch it once and retry.
    if (error.code === 'csrf_failed' && (await refreshCsrfToken(options.signal))) {
      response = await send(path, options);
    }
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (error.status === 401 && options.redirectOnUnauthorized !== false) {
      setCsrfToken(null);
      unauthorizedHandler(currentLocation());
    }
    throw error;
  }
  if (response.status === 204 || response.headers.get('Content-Length') === '0') {
    return undefined as T;
  }
  const type = response.headers.get('Content-Type') ?? '';
  return (type.includes('json') ? ((await response.json()) as T) : ((await response.text()) as T));
}

export const api = {
  get: <T>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...options, method: 'GET' }),
  post: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...options, method: 'POST', body }),
  put: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...options, method: 'PUT', body }),
  patch: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...options, method: 'PATCH', body }),
  delete: <T>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>) =>
    request<T>(path, { ...options, method: 'DELETE' }),
};
