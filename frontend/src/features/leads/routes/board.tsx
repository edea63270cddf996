import { ButtonLink } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { paths } from '@/config/paths';

import { LeadBoard } from '../components/lead-board';

export default function LeadBoardRoute() {
  return (
    <Page title="Lead board">
      <PageHeader
        title="Lead board"
        description="Drag a lead to change its status."
        actions={<ButtonLink to={paths.leads.getHref()}>Table</ButtonLink>}
      />
      <LeadBoard />
    </Page>
  );
}
