// The routes. Each page is its own lazily loaded module (one chunk per feature route); a module
// exports its component as `default`, and optionally `clientLoader(queryClient)` and `ErrorBoundary`.
import type { QueryClient } from '@tanstack/react-query';
import type { ComponentType } from 'react';
import {
  createBrowserRouter,
  createMemoryRouter,
  redirect,
  type LoaderFunction,
  type LoaderFunctionArgs,
  type RouteObject,
} from 'react-router';

import { LoadingState } from '@/components/ui/states';
import { paths } from '@/config/paths';
import { setUnauthorizedHandler } from '@/lib/api-client';
import { USER_QUERY_KEY } from '@/lib/auth';

import { AppLayout, appLayoutLoader } from './routes/app-layout';
import { NotFound } from './routes/not-found';
import { RouteError } from './routes/route-error';
import { TestCallSlot } from './test-call-slot';

type RouteModule = {
  default: ComponentType;
  clientLoader?: (queryClient: QueryClient) => LoaderFunction;
  ErrorBoundary?: ComponentType;
};

const convert = (queryClient: QueryClient) => (module: RouteModule) => ({
  Component: module.default,
  ...(module.clientLoader ? { loader: module.clientLoader(queryClient) } : {}),
  ...(module.ErrorBoundary ? { ErrorBoundary: module.ErrorBoundary } : {}),
});

export function createRoutes(queryClient: QueryClient): RouteObject[] {
  const page = (load: () => Promise<RouteModule>) => () => load().then(convert(queryClient));
  return [
    {
      path: paths.login.path,
      lazy: page(() => import('@/features/auth/routes/login')),
      ErrorBoundary: RouteError,
      HydrateFallback: LoadingState,
    },
    {
      path: '/',
      Component: AppLayout,
      HydrateFallback: LoadingState,
      loader: appLayoutLoader(queryClient),
      // The session is checked when the layout is entered; afterwards a 401 from any request
      // sends the user to the login page. Not re-running it keeps search-param changes synchronous.
      shouldRevalidate: () => false,
      ErrorBoundary: RouteError,
      children: [
        {
          index: true,
          lazy: async () => {
            const module = await import('@/features/dashboard/routes/dashboard');
            const Dashboard = module.default;
            // The test-call button belongs to another feature: the app composes it into the page.
            return { Component: () => <Dashboard actions={<TestCallSlot />} /> };
          },
        },
        { path: 'calls', lazy: page(() => import('@/features/calls/routes/calls')) },
        { path: 'calls/:id', lazy: page(() => import('@/features/calls/routes/call')) },
        { path: 'leads', lazy: page(() => import('@/features/leads/routes/leads')) },
        { path: 'leads/board', lazy: page(() => import('@/features/leads/routes/board')) },
        { path: 'leads/:id', lazy: page(() => import('@/features/leads/routes/lead')) },
        { path: 'whatsapp', lazy: page(() => import('@/features/whatsapp/routes/whatsapp')) },
        { path: 'broadcasts', lazy: page(() => import('@/features/broadcasts/routes/broadcasts')) },
        { path: 'broadcasts/:id', lazy: page(() => import('@/features/broadcasts/routes/broadcast')) },
        {
          path: 'settings',
          lazy: page(() => import('@/features/settings/routes/settings')),
          children: [
            { index: true, loader: () => redirect(paths.settings.getHref('profile')) },
            { path: 'profile', lazy: page(() => import('@/features/settings/routes/profile')) },
            { path: 'phone', lazy: page(() => import('@/features/settings/routes/phone')) },
            { path: 'greeting', lazy: page(() => import('@/features/settings/routes/greeting')) },
            { path: 'brain', lazy: page(() => import('@/features/settings/routes/brain')) },
            { path: 'capacity', lazy: page(() => import('@/features/settings/routes/capacity')) },
            { path: 'webhook', lazy: page(() => import('@/features/settings/routes/webhook')) },
            { path: 'email', lazy: page(() => import('@/features/settings/routes/email')) },
            { path: 'whatsapp', lazy: page(() => import('@/features/settings/routes/whatsapp')) },
          ],
        },
        { path: 'operations', lazy: page(() => import('@/features/operations/routes/operations')) },
        { path: '*', Component: NotFound },
      ],
    },
  ];
}

type AppRouter = ReturnType<typeof createBrowserRouter>;

/** A 401 anywhere: forget the session's data and go to the login page, which comes back here. */
function installUnauthorizedHandler(router: AppRouter, queryClient: QueryClient): void {
  setUnauthorizedHandler(() => {
    const { pathname, search, hash } = router.state.location;
    if (pathname === paths.login.path) return;
    queryClient.removeQueries();
    queryClient.setQueryData(USER_QUERY_KEY, null);
    void router.navigate(paths.login.getHref(`${pathname}${search}${hash}`), { replace: true });
  });
}

export function createAppRouter(queryClient: QueryClient): AppRouter {
  const router = createBrowserRouter(createRoutes(queryClient));
  installUnauthorizedHandler(router, queryClient);
  return router;
}

/** The same routes in memory, for tests (starts at `initialPath`). */
export function createTestRouter(queryClient: QueryClient, initialPath: string): AppRouter {
  const router = createMemoryRouter(createRoutes(queryClient), { initialEntries: [initialPath] });
  installUnauthorizedHandler(router, queryClient);
  return router;
}

export type { LoaderFunctionArgs };
