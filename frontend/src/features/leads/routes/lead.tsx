import { Page, PageHeader } from '@/components/ui/page-header';

export default function LeadRoute() {
  return (
    <Page title="Lead">
      <PageHeader title="Lead" description="Calls and messages with one lead." />
    </Page>
  );
}
