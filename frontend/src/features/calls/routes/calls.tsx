import { Page, PageHeader } from '@/components/ui/page-header';

export default function CallsRoute() {
  return (
    <Page title="Calls">
      <PageHeader title="Calls" description="Every call your receptionist answered or made." />
    </Page>
  );
}
