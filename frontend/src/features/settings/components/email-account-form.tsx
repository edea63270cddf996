// Add or edit an IMAP mailbox. The password is write-only: editing leaves it out unless typed.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { Button } from '@/components/ui/button';
import { InputField, SelectField } from '@/components/ui/field';
import { toast } from '@/components/ui/toast';
import { applyServerErrors } from '@/lib/form-errors';

import { useCreateEmailAccount, type EmailAccountInput } from '../api/create-email-account';
import type { EmailAccount } from '../api/get-email-accounts';
import { useUpdateEmailAccount } from '../api/update-email-account';

import { FormAlert } from './business-tab';

const schemaFor = (editing: boolean) =>
  z.object({
    address: z.email('Enter an email address').max(254, 'At most 254 characters'),
    imap_host: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/, 'A host name such as imap.example.com')
      .max(255, 'At most 255 characters'),
    imap_port: z.number({ error: 'Enter a port' }).int('Enter a port').min(1, 'A port from 1 to 65535').max(65535, 'A port from 1 to 65535'),
    imap_username: z.string().trim().min(1, 'Enter the user name').max(254, 'At most 254 characters'),
    password: editing
      ? z.string().max(1024, 'At most 1024 characters')
      : z.string().min(1, 'Enter the password').max(1024, 'At most 1024 characters'),
    tls_mode: z.enum(['ssl', 'starttls']),
    mailbox: z.string().trim().min(1, 'Enter the folder, usually INBOX').max(255, 'At most 255 characters'),
    sync_interval_minutes: z
      .number({ error: 'Enter minutes' })
      .int('Whole minutes')
      .min(1, 'At least 1 minute')
      .max(1440, 'At most 1440 minutes (a day)'),
    is_active: z.boolean(),
  });
type Values = z.infer<ReturnType<typeof schemaFor>>;

const FIELDS = {
  address: 'address',
  imap_host: 'imap_host',
  imap_port: 'imap_port',
  imap_username: 'imap_username',
  password: 'password',
  tls_mode: 'tls_mode',
  mailbox: 'mailbox',
  sync_interval_seconds: 'sync_interval_minutes',
  'code:email_account_exists': 'address',
} as const;

export function EmailAccountForm({ account, onDone }: { account?: EmailAccount; onDone: () => void }) {
  const editing = account !== undefined;
  const form = useForm<Values>({
    resolver: zodResolver(schemaFor(editing)),
    defaultValues: {
      address: account?.address ?? '',
      imap_host: account?.imap_host ?? '',
      imap_port: account?.imap_port ?? 993,
      imap_username: account?.imap_username ?? '',
      password: '',
      tls_mode: account?.tls_mode ?? 'ssl',
      mailbox: account?.mailbox ?? 'INBOX',
      sync_interval_minutes: Math.round((account?.sync_interval_seconds ?? 300) / 60),
      is_active: account?.is_active ?? true,
    },
  });
  const create = useCreateEmailAccount();
  const update = useUpdateEmailAccount();
  const [formError, setFormError] = useState<string | null>(null);
  const { errors, isSubmitting } = form.formState;

  const onSubmit = form.handleSubmit(async ({ sync_interval_minutes, password, ...values }) => {
    const data: EmailAccountInput = { ...values, sync_interval_seconds: sync_interval_minutes * 60, ...(password ? { password } : {}) };
    try {
      if (account) await update.mutateAsync({ id: account.id, data });
      else await create.mutateAsync(data);
      toast.success(account ? 'Mailbox saved.' : 'Mailbox added: the first sync starts shortly.');
      onDone();
    } catch (error) {
      setFormError(applyServerErrors(error, form.setError, FIELDS));
    }
  });

  return (
    <form className="stack" noValidate onSubmit={(e) => void onSubmit(e)} aria-label={editing ? `Edit ${account.address}` : 'Add a mailbox'}>
      <div className="grid grid-2">
        <InputField label="Email address" type="email" autoComplete="off" error={errors.address?.message} {...form.register('address')} />
        <InputField label="IMAP server" placeholder="imap.example.com" error={errors.imap_host?.message} {...form.register('imap_host')} />
        <InputField label="Port" type="number" inputMode="numeric" error={errors.imap_port?.message} {...form.register('imap_port', { valueAsNumber: true })} />
        <SelectField
          label="Security"
          options={[
            { value: 'ssl', label: 'SSL/TLS (usually port 993)' },
            { value: 'starttls', label: 'STARTTLS (usually port 143)' },
          ]}
          error={errors.tls_mode?.message}
          {...form.register('tls_mode')}
        />
        <InputField label="User name" autoComplete="off" error={errors.imap_username?.message} {...form.register('imap_username')} />
        <InputField
          label="Password"
          type="password"
          autoComplete="new-password"
          placeholder={editing && account.password_set ? 'Stored: type a new one to replace it' : undefined}
          error={errors.password?.message}
          {...form.register('password')}
        />
        <InputField label="Folder" error={errors.mailbox?.message} {...form.register('mailbox')} />
        <InputField label="Check every (minutes)" type="number" inputMode="numeric" error={errors.sync_interval_minutes?.message} {...form.register('sync_interval_minutes', { valueAsNumber: true })} />
      </div>
      <label className="row">
        <input type="checkbox" {...form.register('is_active')} /> Active (synced on its schedule)
      </label>
      <FormAlert message={formError} />
      <div className="row">
        <Button type="submit" isLoading={isSubmitting}>
          {editing ? 'Save mailbox' : 'Add mailbox'}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
