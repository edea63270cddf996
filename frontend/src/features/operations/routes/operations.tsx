// Route module; its page is built by another helper (see the commit that created it).
import { Page, PageHeader } from '@/components/ui/page-header';

export default function OperationsRoute() {
  return (
    <Page title="Operations">
      <PageHeader title="Operations" description="Instances, queues, workers and dead letters." />
    </Page>
  );
}
