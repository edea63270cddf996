// The dashboard's place for the browser test call (features/test-call, helper "testcall").
// Loaded lazily so the dashboard's first paint does not wait for the call's audio code; if that
// chunk fails to load (a deploy replaced it), the dashboard stays and the slot says so.
import { lazy, Suspense } from 'react';
import { ErrorBoundary } from 'react-error-boundary';

const TestCall = lazy(() => import('@/features/test-call/components/test-call'));

export function TestCallSlot() {
  return (
    <ErrorBoundary fallback={<span className="small muted">The test call is unavailable; reload the page.</span>}>
      <Suspense fallback={null}>
        <TestCall />
      </Suspense>
    </ErrorBoundary>
  );
}
