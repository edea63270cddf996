import { Page, PageHeader } from '@/components/ui/page-header';

export default function LeadBoardRoute() {
  return (
    <Page title="Lead board">
      <PageHeader title="Lead board" description="Your leads by status." />
    </Page>
  );
}
