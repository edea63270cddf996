import { parseEnv } from '@/config/env';

describe('parseEnv', () => {
  it('defaults to the same origin', () => {
    expect(parseEnv({}).API_URL).toBe('');
  });

  it('lists every bad variable at once', () => {
    expect(() => parseEnv({ VITE_APP_API_URL: 'ftp://x/y', VITE_APP_EVENTS_RETRY_MIN_MS: 'soon' })).toThrow(
      /VITE_APP_API_URL: must be empty[\s\S]*VITE_APP_EVENTS_RETRY_MIN_MS/,
    );
  });
});
