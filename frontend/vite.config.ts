// Dev server, build and the dev proxy to the local stack (README: "The web app").
// The proxy targets come from the same variables the services listen on (API_PORT, CALLS_PORT),
// so `make run` with other ports and `npm run dev` agree without editing this file.
import { fileURLToPath, URL } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return parsed;
}

export default defineConfig(({ mode }) => {
  const env = { ...loadEnv(mode, process.cwd(), ''), ...process.env };
  const api = `http://127.0.0.1:${port(env.API_PORT, 5000, 'API_PORT')}`;
  const calls = `ws://127.0.0.1:${port(env.CALLS_PORT, 5050, 'CALLS_PORT')}`;
  const proxied = Object.fromEntries(
    ['/api', '/twilio', '/readyz', '/version', '/health'].map((path) => [path, { target: api }]),
  );
  return {
    plugins: [react()],
    resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
    server: {
      port: port(env.FRONTEND_PORT, 5173, 'FRONTEND_PORT'),
      strictPort: true,
      proxy: { ...proxied, '/ws': { target: calls, ws: true } },
    },
    // The manifest tells scripts/bundle-budget.mjs which chunks the first load needs.
    build: { target: 'es2022', sourcemap: true, manifest: true, chunkSizeWarningLimit: 600 },
  };
});
