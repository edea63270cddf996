// Route module; its page is built by another helper (see the commit that created it).
import { Page, PageHeader } from '@/components/ui/page-header';

export default function BroadcastRoute() {
  return (
    <Page title="Broadcast">
      <PageHeader title="Broadcast" description="Progress and recipients of one broadcast." />
    </Page>
  );
}
