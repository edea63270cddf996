import { isRouteErrorResponse, useRouteError } from 'react-router';

import { ErrorState } from '@/components/ui/states';

/** A page that failed to load or render (a lost chunk after a deploy, a bug): say so, offer a reload. */
export function RouteError() {
  const error = useRouteError();
  const title = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : 'This page failed to load';
  return (
    <div className="page" style={{ padding: 24 }}>
      <ErrorState error={error} title={title} onRetry={() => window.location.reload()} />
    </div>
  );
}
