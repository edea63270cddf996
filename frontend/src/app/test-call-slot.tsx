// The dashboard's place for the browser test call (features/test-call, helper "testcall").
// Loaded lazily so the dashboard's first paint does not wait for the call's audio code.
import { lazy, Suspense } from 'react';

const TestCall = lazy(() => import('@/features/test-call/components/test-call'));

export function TestCallSlot() {
  return (
    <Suspense fallback={null}>
      <TestCall />
    </Suspense>
  );
}
