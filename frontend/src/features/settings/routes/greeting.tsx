// Settings → Greeting: what the receptionist says first.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { TextareaField } from '@/components/ui/field';

import { BusinessTab, FormFooter, SettingsSection, useSaveBusiness, type TabProps } from '../components/business-tab';

const schema = z.object({ greeting: z.string().trim().max(2000, 'At most 2000 characters') });
type Values = z.infer<typeof schema>;

function GreetingForm({ business, canEdit }: TabProps) {
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { greeting: business.greeting } });
  const [formError, setFormError] = useState<string | null>(null);
  const { save, isSaving } = useSaveBusiness(form, { greeting: 'greeting' }, (b) => form.reset({ greeting: b.greeting }));
  return (
    <form className="stack" noValidate onSubmit={(e) => void form.handleSubmit(async (v) => setFormError(await save(business.id, v)))(e)}>
      <TextareaField
        label="Greeting"
        rows={4}
        placeholder={`Thanks for calling ${business.name}.`}
        hint="Leave empty for the receptionist's default greeting."
        error={form.formState.errors.greeting?.message}
        disabled={!canEdit}
        {...form.register('greeting')}
      />
      <FormFooter formError={formError} canEdit={canEdit} isSaving={isSaving} />
    </form>
  );
}

export default function GreetingSettingsRoute() {
  return (
    <SettingsSection id="greeting" title="Greeting" description="What the receptionist says first.">
      <BusinessTab>{(props) => <GreetingForm {...props} />}</BusinessTab>
    </SettingsSection>
  );
}
