// Every path of the app in one place: links and redirects build hrefs here, never by hand.
export const paths = {
  login: {
    path: '/login',
    getHref: (next?: string | null) =>
      next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login',
  },
  dashboard: { path: '/', getHref: () => '/' },
  calls: { path: '/calls', getHref: () => '/calls' },
  call: { path: '/calls/:id', getHref: (id: number | string) => `/calls/${id}` },
  leads: { path: '/leads', getHref: () => '/leads' },
  leadsBoard: { path: '/leads/board', getHref: () => '/leads/board' },
  lead: { path: '/leads/:id', getHref: (id: number | string) => `/leads/${id}` },
  whatsapp: { path: '/whatsapp', getHref: () => '/whatsapp' },
  broadcasts: { path: '/broadcasts', getHref: () => '/broadcasts' },
  broadcast: { path: '/broadcasts/:id', getHref: (id: number | string) => `/broadcasts/${id}` },
  settings: {
    path: '/settings',
    getHref: (tab?: SettingsTab) => (tab ? `/settings/${tab}` : '/settings'),
  },
  operations: { path: '/operations', getHref: () => '/operations' },
} as const;

export const SETTINGS_TABS = [
  'profile',
  'phone',
  'greeting',
  'brain',
  'capacity',
  'webhook',
  'email',
  'whatsapp',
] as const;
export type SettingsTab = (typeof SETTINGS_TABS)[number];

/** A `next` parameter that stays on this site (an open redirect otherwise), or "/". */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next === paths.login.path || next.startsWith(`${paths.login.path}?`)) return '/';
  return next;
}
