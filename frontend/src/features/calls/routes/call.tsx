import { Page, PageHeader } from '@/components/ui/page-header';

export default function CallRoute() {
  return (
    <Page title="Call">
      <PageHeader title="Call" description="The recording and transcript of one call." />
    </Page>
  );
}
