import type { ReactNode } from 'react';

import { env } from '@/config/env';

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p>{description}</p> : null}
      </div>
      {actions ? <div className="row">{actions}</div> : null}
    </header>
  );
}

/** A page: sets the document title and gives the content its width. */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="page">
      <title>{`${title} · ${env.APP_NAME}`}</title>
      {children}
    </div>
  );
}
