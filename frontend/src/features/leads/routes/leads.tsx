import { Page, PageHeader } from '@/components/ui/page-header';

export default function LeadsRoute() {
  return (
    <Page title="Leads">
      <PageHeader title="Leads" description="Everyone who called or wrote." />
    </Page>
  );
}
