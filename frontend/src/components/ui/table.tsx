import type { ReactNode } from 'react';

/** A table that scrolls sideways inside its card on small screens instead of breaking the page. */
/** `stack`: below 640 px each row becomes a card; every cell then needs a `data-label`. */
export function Table({
  caption,
  children,
  captionHidden = false,
  stack = false,
}: {
  caption: string;
  children: ReactNode;
  captionHidden?: boolean;
  stack?: boolean;
}) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table className={stack ? 'table table-stack' : 'table'}>
        <caption className={captionHidden ? 'visually-hidden' : undefined}>{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export function Pagination({
  page,
  pages,
  total,
  onPage,
  noun = 'items',
}: {
  page: number;
  pages: number;
  total: number;
  onPage: (page: number) => void;
  noun?: string;
}) {
  return (
    <nav className="pagination" aria-label="Pagination">
      <span className="muted small">
        {total} {noun} · page {Math.min(page, Math.max(pages, 1))} of {Math.max(pages, 1)}
      </span>
      <span className="row">
        <button type="button" className="btn btn-secondary btn-sm" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </button>
        <button type="button" className="btn btn-secondary btn-sm" disabled={page >= pages} onClick={() => onPage(page + 1)}>
          Next
        </button>
      </span>
    </nav>
  );
}
