// Settings: one tab per concern, each tab its own route (/settings/<tab>) so it can be linked.
import { NavLink, Outlet } from 'react-router';

import { Page, PageHeader } from '@/components/ui/page-header';
import { paths, SETTINGS_TABS, type SettingsTab } from '@/config/paths';

const LABELS: Record<SettingsTab, string> = {
  profile: 'Profile',
  phone: 'Phone',
  greeting: 'Greeting',
  brain: 'Brain',
  capacity: 'Capacity',
  webhook: 'Webhook',
  email: 'Email',
  whatsapp: 'WhatsApp',
};

export default function SettingsRoute() {
  return (
    <Page title="Settings">
      <PageHeader title="Settings" description="Your business, your receptionist and your channels." />
      <nav className="tabs" aria-label="Settings">
        {SETTINGS_TABS.map((tab) => (
          <NavLink key={tab} to={paths.settings.getHref(tab)}>
            {LABELS[tab]}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </Page>
  );
}
