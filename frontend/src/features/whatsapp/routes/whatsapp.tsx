// Route module; its page is built by another helper (see the commit that created it).
import { Page, PageHeader } from '@/components/ui/page-header';

export default function WhatsAppRoute() {
  return (
    <Page title="WhatsApp">
      <PageHeader title="WhatsApp" description="Conversations with your leads." />
    </Page>
  );
}
