import { ButtonLink } from '@/components/ui/button';
import { Page } from '@/components/ui/page-header';
import { EmptyState } from '@/components/ui/states';
import { paths } from '@/config/paths';

export function NotFound() {
  return (
    <Page title="Not found">
      <EmptyState
        title="There is no page here"
        action={<ButtonLink to={paths.dashboard.getHref()}>Go to the dashboard</ButtonLink>}
      >
        The address may be mistyped, or the page has moved.
      </EmptyState>
    </Page>
  );
}
