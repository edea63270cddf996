// The frame of a settings tab that edits the business: loads it (loading, error, no business),
// and gives the form the business, whether the user may change it, and a save function that
// maps the server's 422 problems onto the form's fields.
import type { ReactNode } from 'react';
import type { FieldValues, Path, UseFormReturn } from 'react-hook-form';

import { Button } from '@/components/ui/button';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';
import { hasRole, useUser } from '@/lib/auth';
import { applyServerErrors } from '@/lib/form-errors';

import { useBusiness, type Business } from '../api/get-business';
import { useUpdateBusiness, type BusinessUpdate } from '../api/update-business';

import '@/styles/features.css';

export function SettingsSection({ id, title, description, children }: { id: string; title: string; description: ReactNode; children: ReactNode }) {
  return (
    <section className="card stack" aria-labelledby={`settings-${id}`}>
      <div>
        <h2 id={`settings-${id}`}>{title}</h2>
        <p className="muted">{description}</p>
      </div>
      {children}
    </section>
  );
}

export type TabProps = { business: Business; canEdit: boolean };

/** Renders `children` with the user's business once it is loaded. */
export function BusinessTab({ children }: { children: (props: TabProps) => ReactNode }) {
  const user = useUser().data;
  const businessId = user?.business_id ?? null;
  const business = useBusiness(businessId);
  if (businessId === null) {
    return (
      <EmptyState title="No business selected">
        These settings belong to one business: log in as one of its owners or admins to change them.
      </EmptyState>
    );
  }
  if (business.isPending) return <LoadingState label="Loading the settings…" />;
  if (business.isError) return <ErrorState error={business.error} title="Could not load the settings" onRetry={() => void business.refetch()} />;
  return <>{children({ business: business.data, canEdit: hasRole(user, 'admin') })}</>;
}

/** Save some fields; on a 422 each problem goes under its field (`fields`: API name → form name). */
export function useSaveBusiness<T extends FieldValues>(
  form: UseFormReturn<T>,
  fields: Partial<Record<string, Path<T>>>,
  onSaved?: (business: Business) => void,
) {
  const update = useUpdateBusiness();
  const save = async (id: number, data: BusinessUpdate): Promise<string | null> => {
    try {
      const business = await update.mutateAsync({ id, data });
      toast.success('Saved.');
      onSaved?.(business);
      return null;
    } catch (error) {
      return applyServerErrors(error, form.setError, fields);
    }
  };
  return { save, isSaving: update.isPending };
}

export function FormAlert({ message }: { message: string | null }) {
  return message ? (
    <div className="alert alert-error" role="alert">
      {message}
    </div>
  ) : null;
}

export function ReadOnlyNote({ canEdit }: { canEdit: boolean }) {
  return canEdit ? null : <p className="muted small">Only owners and admins can change these settings.</p>;
}

/** The end of every settings form: the form's error, the read-only note, and Save for editors. */
export function FormFooter({ formError, canEdit, isSaving }: { formError: string | null; canEdit: boolean; isSaving: boolean }) {
  return (
    <>
      <FormAlert message={formError} />
      <ReadOnlyNote canEdit={canEdit} />
      {canEdit ? (
        <div className="row">
          <Button type="submit" isLoading={isSaving}>
            Save
          </Button>
        </div>
      ) : null}
    </>
  );
}
