// Route module; its page is built by another helper (see the commit that created it).
import { Page, PageHeader } from '@/components/ui/page-header';

export default function BroadcastsRoute() {
  return (
    <Page title="Broadcasts">
      <PageHeader title="Broadcasts" description="Messages sent to many leads at once." />
    </Page>
  );
}
