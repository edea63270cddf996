// Loading, empty and error states: every page that loads something shows one of these.
import type { ReactNode } from 'react';

import { isApiError } from '@/lib/api-client';

import { Button } from './button';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <span role="status" className="row">
      <span className="spinner" aria-hidden />
      <span className="visually-hidden">{label}</span>
    </span>
  );
}

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state">
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

/** What went wrong, in words for people; the API's own message when it sent one. */
export function errorMessage(error: unknown): string {
  if (isApiError(error)) {
    if (error.status === 403) return `You do not have access to this. ${error.message}`;
    if (error.status === 404) return 'This could not be found. It may have been deleted.';
    return error.message;
  }
  return 'Something went wrong. Please try again.';
}

export function ErrorState({
  error,
  title = 'Could not load this',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  return (
    <div className="state" role="alert">
      <h3>{title}</h3>
      <p>{errorMessage(error)}</p>
      {onRetry ? (
        <Button variant="secondary" onClick={onRetry}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}
