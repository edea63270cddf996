// Settings → Capacity: how many calls are answered at once (more callers hear "busy").
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { InputField } from '@/components/ui/field';

import { BusinessTab, FormFooter, SettingsSection, useSaveBusiness, type TabProps } from '../components/business-tab';

const schema = z.object({
  max_concurrent_calls: z
    .number({ error: 'Enter a whole number' })
    .int('Enter a whole number')
    .min(0, 'At least 0 (0 answers no calls)')
    .max(10_000, 'At most 10000'),
});
type Values = z.infer<typeof schema>;

function CapacityForm({ business, canEdit }: TabProps) {
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { max_concurrent_calls: business.max_concurrent_calls } });
  const [formError, setFormError] = useState<string | null>(null);
  const { save, isSaving } = useSaveBusiness(form, { max_concurrent_calls: 'max_concurrent_calls' }, (b) =>
    form.reset({ max_concurrent_calls: b.max_concurrent_calls }),
  );
  return (
    <form className="stack" noValidate onSubmit={(e) => void form.handleSubmit(async (v) => setFormError(await save(business.id, v)))(e)}>
      <InputField
        label="Calls at once"
        type="number"
        inputMode="numeric"
        min={0}
        max={10000}
        step={1}
        hint="Callers beyond this hear that the line is busy. 0 answers no calls."
        error={form.formState.errors.max_concurrent_calls?.message}
        disabled={!canEdit}
        {...form.register('max_concurrent_calls', { valueAsNumber: true })}
      />
      <FormFooter formError={formError} canEdit={canEdit} isSaving={isSaving} />
    </form>
  );
}

export default function CapacitySettingsRoute() {
  return (
    <SettingsSection id="capacity" title="Capacity" description="How many calls are answered at once.">
      <BusinessTab>{(props) => <CapacityForm {...props} />}</BusinessTab>
    </SettingsSection>
  );
}
