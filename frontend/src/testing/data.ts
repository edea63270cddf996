// Test data in the API's shapes (api/responses.py).
import type { User } from '@/lib/auth';

export function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: 1,
    email: 'owner@example.com',
    name: 'Olivia Owner',
    role: 'owner',
    business_id: 1,
    is_active: true,
    created_at: '2026-12-01T10:00:00+00:00',
    last_login_at: null,
    ...overrides,
  };
}
