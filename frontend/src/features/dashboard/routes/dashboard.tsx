import type { ReactNode } from 'react';

import { Page, PageHeader } from '@/components/ui/page-header';

export default function DashboardRoute({ actions }: { actions?: ReactNode }) {
  return (
    <Page title="Dashboard">
      <PageHeader title="Dashboard" description="Your receptionist, live." actions={actions} />
    </Page>
  );
}
