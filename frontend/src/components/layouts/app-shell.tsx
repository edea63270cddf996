// The frame of every logged-in page: top bar, navigation (a menu button below 900 px), content.
import { useEffect, useState, type ReactNode } from 'react';
import { NavLink, useLocation, useNavigate } from 'react-router';

import { Button } from '@/components/ui/button';
import { toast } from '@/components/ui/toast';
import { paths } from '@/config/paths';
import { hasRole, useLogout, type Role, type User } from '@/lib/auth';

type NavItem = { to: string; label: string; icon: string; end?: boolean; minimum?: Role; systemOnly?: boolean };

const NAV: ReadonlyArray<{ section?: string; items: NavItem[] }> = [
  {
    items: [
      { to: paths.dashboard.getHref(), label: 'Dashboard', icon: '◧', end: true },
      { to: paths.calls.getHref(), label: 'Calls', icon: '☏' },
      { to: paths.leads.getHref(), label: 'Leads', icon: '☰', end: true },
      { to: paths.leadsBoard.getHref(), label: 'Lead board', icon: '▥' },
    ],
  },
  {
    section: 'Messaging',
    items: [
      { to: paths.whatsapp.getHref(), label: 'WhatsApp', icon: '✉' },
      { to: paths.broadcasts.getHref(), label: 'Broadcasts', icon: '≋' },
    ],
  },
  {
    section: 'Manage',
    items: [
      { to: paths.settings.getHref(), label: 'Settings', icon: '⚙' },
      { to: paths.operations.getHref(), label: 'Operations', icon: '▦', systemOnly: true },
    ],
  },
];

function visible(item: NavItem, user: User): boolean {
  if (item.systemOnly) return user.role === 'system_admin';
  return item.minimum ? hasRole(user, item.minimum) : true;
}

export function AppShell({ user, children }: { user: User; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const logout = useLogout({ onSuccess: () => void navigate(paths.login.getHref(), { replace: true }) });
  // The menu closes when a link in it is followed (the page changes under it).
  const [menuPath, setMenuPath] = useState(location.pathname);
  if (menuPath !== location.pathname) {
    setMenuPath(location.pathname);
    setOpen(false);
  }
  useEffect(() => {
    if (!open) return undefined;
    const close = (event: KeyboardEvent) => event.key === 'Escape' && setOpen(false);
    window.addEventListener('keydown', close);
    return () => window.removeEventListener('keydown', close);
  }, [open]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="btn btn-ghost menu-toggle"
          aria-expanded={open}
          aria-controls="primary-nav"
          onClick={() => setOpen((value) => !value)}
        >
          <span aria-hidden>☰</span>
          <span className="visually-hidden">Menu</span>
        </button>
        <NavLink to={paths.dashboard.getHref()} className="brand">
          <span className="brand-mark" aria-hidden>
            P
          </span>
          ProSaaS
        </NavLink>
        <div className="user-menu">
          <span className="user-name">{user.name || user.email}</span>
          <Button
            variant="secondary"
            size="sm"
            isLoading={logout.isPending}
            onClick={() =>
              logout.mutate(undefined, { onError: () => toast.error('Could not log out. Please try again.') })
            }
          >
            Log out
          </Button>
        </div>
      </header>
      <nav id="primary-nav" className="nav" aria-label="Main" data-open={open}>
        {NAV.map((group, index) => {
          const items = group.items.filter((item) => visible(item, user));
          if (!items.length) return null;
          return (
            <div key={group.section ?? index}>
              {group.section ? <div className="nav-section">{group.section}</div> : null}
              <ul>
                {items.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to} end={item.end}>
                      <span aria-hidden style={{ width: 18, textAlign: 'center' }}>
                        {item.icon}
                      </span>
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
