// Settings → Profile: the business's name, time zone and language.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { InputField } from '@/components/ui/field';

import { BusinessTab, FormFooter, SettingsSection, useSaveBusiness, type TabProps } from '../components/business-tab';

const schema = z.object({
  name: z.string().trim().min(1, 'Enter the business name').max(200, 'At most 200 characters'),
  timezone: z.string().trim().min(1, 'Enter a time zone such as Europe/London').max(64, 'At most 64 characters'),
  language: z
    .string()
    .trim()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'A language tag such as en or en-GB'),
});
type Values = z.infer<typeof schema>;

function ProfileForm({ business, canEdit }: TabProps) {
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { name: business.name, timezone: business.timezone, language: business.language },
  });
  const [formError, setFormError] = useState<string | null>(null);
  const { save, isSaving } = useSaveBusiness(form, { name: 'name', timezone: 'timezone', language: 'language' }, (b) =>
    form.reset({ name: b.name, timezone: b.timezone, language: b.language }),
  );
  const { errors } = form.formState;
  return (
    <form className="stack" noValidate onSubmit={(e) => void form.handleSubmit(async (v) => setFormError(await save(business.id, v)))(e)}>
      <InputField label="Business name" autoComplete="organization" error={errors.name?.message} disabled={!canEdit} {...form.register('name')} />
      <InputField label="Time zone" hint="IANA name, e.g. America/New_York: for opening hours and reports." error={errors.timezone?.message} disabled={!canEdit} {...form.register('timezone')} />
      <InputField label="Language" hint="What the receptionist speaks, e.g. en." error={errors.language?.message} disabled={!canEdit} {...form.register('language')} />
      <FormFooter formError={formError} canEdit={canEdit} isSaving={isSaving} />
    </form>
  );
}

export default function ProfileSettingsRoute() {
  return (
    <SettingsSection id="profile" title="Profile" description="Your business's name, time zone and language.">
      <BusinessTab>{(props) => <ProfileForm {...props} />}</BusinessTab>
    </SettingsSection>
  );
}
