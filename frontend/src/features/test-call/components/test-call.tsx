// The browser test call on the dashboard (src/app/test-call-slot.tsx renders it lazily among the
// header actions): owners and admins talk to their own agent through the microphone. A system
// admin gets it on a business's dashboard (?business_id=N); agents do not see it.
import { useSearchParams } from 'react-router';

import { hasRole, useUser } from '@/lib/auth';

import { TestCallPanel } from './test-call-panel';

export default function TestCall() {
  const { data: user } = useUser();
  const [search] = useSearchParams();
  if (!user || !hasRole(user, 'admin')) return null;
  let businessId: number | null = null;
  if (user.role === 'system_admin') {
    businessId = Number(search.get('business_id')) || null;
    if (businessId === null) return null;
  }
  return <TestCallPanel businessId={businessId} />;
}
