// The session: who is logged in (GET /api/auth/me), login and logout (api/routes/auth.py).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { z } from 'zod';

import { api, isApiError, setCsrfToken } from '@/lib/api-client';

export const ROLES = ['agent', 'admin', 'owner', 'system_admin'] as const;
export type Role = (typeof ROLES)[number];

export type User = {
  id: number;
  email: string;
  name: string;
  role: Role;
  business_id: number | null;
  is_active: boolean;
  created_at: string;
  last_login_at: string | null;
};

type SessionInfo = { user: User; csrf_token: string | null };

const RANK: Record<Role, number> = { agent: 0, admin: 1, owner: 2, system_admin: 3 };

/** Whether `user` has at least `minimum` (the order of api/security.py's require_role). */
export function hasRole(user: User | null | undefined, minimum: Role): boolean {
  return Boolean(user && RANK[user.role] >= RANK[minimum]);
}

export const loginInputSchema = z.object({
  email: z.email('Enter a valid email address').trim().toLowerCase(),
  password: z.string().min(1, 'Enter your password'),
});
export type LoginInput = z.infer<typeof loginInputSchema>;

export const USER_QUERY_KEY = ['auth', 'me'] as const;

/** The logged-in user, or null when there is no session (never redirects: it is how we find out). */
export async function getUser(): Promise<User | null> {
  try {
    const info = await api.get<SessionInfo>('/api/auth/me', { redirectOnUnauthorized: false });
    setCsrfToken(info.csrf_token);
    return info.user;
  } catch (error) {
    if (isApiError(error, 401)) {
      setCsrfToken(null);
      return null;
    }
    throw error;
  }
}

export const userQueryOptions = () =>
  queryOptions({ queryKey: USER_QUERY_KEY, queryFn: getUser, staleTime: Infinity });

export function useUser() {
  return useQuery(userQueryOptions());
}

export async function login(input: LoginInput): Promise<User> {
  const info = await api.post<SessionInfo>('/api/auth/login', input, { redirectOnUnauthorized: false });
  setCsrfToken(info.csrf_token);
  return info.user;
}

export function useLogin({ onSuccess }: { onSuccess?: (user: User) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: login,
    onSuccess: (user) => {
      queryClient.setQueryData(USER_QUERY_KEY, user);
      onSuccess?.(user);
    },
  });
}

export async function logout(): Promise<void> {
  await api.post('/api/auth/logout', undefined, { redirectOnUnauthorized: false });
}

export function useLogout({ onSuccess }: { onSuccess?: () => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: logout,
    // Logged out either way: a 401 means the session had already ended.
    onSettled: (_data, error) => {
      if (error && !isApiError(error, 401)) return;
      setCsrfToken(null);
      queryClient.clear();
      queryClient.setQueryData(USER_QUERY_KEY, null);
      onSuccess?.();
    },
  });
}
