// Settings → Webhook: where call and lead events are POSTed, the secret that signs them
// (write-only: it is never shown again), and the deliveries with "Redeliver".
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { InputField } from '@/components/ui/field';
import { hasRole, useUser } from '@/lib/auth';

import type { Business } from '../api/get-business';
import { BusinessTab, FormFooter, SettingsSection, useSaveBusiness, type TabProps } from '../components/business-tab';
import { Deliveries } from '../components/deliveries';

const schemaFor = (secretSet: boolean) =>
  z
    .object({
      webhook_url: z.union([
        z.literal(''),
        z.url({ protocol: /^https?$/, error: 'An http:// or https:// address' }).max(2000, 'At most 2000 characters'),
      ]),
      webhook_secret: z.union([
        z.literal(''),
        z.string().min(16, 'At least 16 characters').max(256, 'At most 256 characters'),
      ]),
    })
    .refine((v) => !v.webhook_url || secretSet || v.webhook_secret, {
      path: ['webhook_secret'],
      error: 'Set a secret: every webhook is signed with it',
    });
type Values = { webhook_url: string; webhook_secret: string };

const valuesOf = (b: Business): Values => ({ webhook_url: b.webhook_url, webhook_secret: '' });

function WebhookForm({ business, canEdit }: TabProps) {
  const form = useForm<Values>({ resolver: zodResolver(schemaFor(business.webhook_secret_set)), defaultValues: valuesOf(business) });
  const [formError, setFormError] = useState<string | null>(null);
  const { save, isSaving } = useSaveBusiness(
    form,
    { webhook_url: 'webhook_url', webhook_secret: 'webhook_secret', 'code:webhook_url_refused': 'webhook_url' },
    (b) => form.reset(valuesOf(b)),
  );
  const { errors } = form.formState;
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) =>
        void form.handleSubmit(async (v) =>
          setFormError(
            await save(business.id, { webhook_url: v.webhook_url, ...(v.webhook_secret ? { webhook_secret: v.webhook_secret } : {}) }),
          ),
        )(e)
      }
    >
      <InputField label="Webhook URL" type="url" inputMode="url" placeholder="https://example.com/prosaas" hint="Empty turns webhooks off." error={errors.webhook_url?.message} disabled={!canEdit} {...form.register('webhook_url')} />
      <InputField
        label="Signing secret"
        type="password"
        autoComplete="new-password"
        placeholder={business.webhook_secret_set ? 'A secret is set: type a new one to replace it' : 'At least 16 characters'}
        hint="Signs each delivery (HMAC-SHA256). Never shown again once saved."
        error={errors.webhook_secret?.message}
        disabled={!canEdit}
        {...form.register('webhook_secret')}
      />
      <FormFooter formError={formError} canEdit={canEdit} isSaving={isSaving} />
    </form>
  );
}

export default function WebhookSettingsRoute() {
  const user = useUser().data;
  return (
    <SettingsSection id="webhook" title="Webhook" description="Where call and lead events are sent.">
      <BusinessTab>{(props) => <WebhookForm {...props} />}</BusinessTab>
      {hasRole(user, 'admin') && user?.business_id ? <Deliveries /> : null}
    </SettingsSection>
  );
}
