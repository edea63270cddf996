// Edit a lead: name, email, phone, status, notes (PATCH /api/leads/{id}). The server's refusals
// (a phone number of another lead, an invalid email) show on their fields.
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { Button } from '@/components/ui/button';
import { InputField, SelectField, TextareaField } from '@/components/ui/field';
import { errorMessage } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';
import { isApiError } from '@/lib/api-client';

import { LEAD_STATUSES, STATUS_LABELS, type LeadDetail } from '../api/types';
import { useUpdateLead } from '../api/update-lead';

const LeadFormSchema = z.object({
  name: z.string().trim().max(200, 'At most 200 characters'),
  email: z.union([z.literal(''), z.email('Enter a valid email address')]),
  phone_e164: z.string().trim().regex(/^\+[1-9]\d{6,14}$/, 'Use the international format, e.g. +15551234567'),
  status: z.enum(LEAD_STATUSES),
  notes: z.string().max(10_000, 'At most 10,000 characters'),
});
type LeadFormValues = z.infer<typeof LeadFormSchema>;
const FIELDS = ['name', 'email', 'phone_e164', 'status', 'notes'] as const;

export function LeadForm({ lead }: { lead: LeadDetail }) {
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isDirty },
  } = useForm<LeadFormValues>({
    resolver: zodResolver(LeadFormSchema),
    values: { name: lead.name, email: lead.email, phone_e164: lead.phone_e164, status: lead.status, notes: lead.notes },
  });
  const update = useUpdateLead({ onSuccess: () => toast.success('Lead saved') });

  const submit = (values: LeadFormValues) =>
    update.mutate(
      { id: lead.id, data: values },
      {
        onError: (error) => {
          if (isApiError(error, 409)) setError('phone_e164', { message: error.message });
          for (const problem of isApiError(error) ? error.fieldProblems : []) {
            const field = FIELDS.find((name) => problem.field === name || problem.field.endsWith(`.${name}`));
            if (field) setError(field, { message: problem.problem });
          }
        },
      },
    );

  return (
    <form className="stack" noValidate onSubmit={(event) => void handleSubmit(submit)(event)} aria-label="Edit lead">
      {update.isError && !isApiError(update.error, 409) && !(isApiError(update.error) && update.error.fieldProblems.length) ? (
        <div className="alert alert-error" role="alert">
          {errorMessage(update.error)}
        </div>
      ) : null}
      <InputField label="Name" autoComplete="off" error={errors.name?.message} {...register('name')} />
      <InputField label="Phone" type="tel" error={errors.phone_e164?.message} {...register('phone_e164')} />
      <InputField label="Email" type="email" error={errors.email?.message} {...register('email')} />
      <SelectField
        label="Status"
        options={LEAD_STATUSES.map((status) => ({ value: status, label: STATUS_LABELS[status] }))}
        error={errors.status?.message}
        {...register('status')}
      />
      <TextareaField label="Notes" error={errors.notes?.message} {...register('notes')} />
      <div>
        <Button type="submit" isLoading={update.isPending} disabled={!isDirty}>
          Save
        </Button>
      </div>
    </form>
  );
}
