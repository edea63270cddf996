// Settings → Phone: the number callers dial (Twilio's "To"), and the WhatsApp number.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';

import { InputField } from '@/components/ui/field';

import { BusinessTab, FormFooter, SettingsSection, useSaveBusiness, type TabProps } from '../components/business-tab';

const e164 = /^\+[1-9]\d{6,14}$/;
const schema = z.object({
  phone_e164: z.string().trim().regex(e164, 'An international number such as +15550100000'),
  whatsapp_number: z.union([z.literal(''), z.string().trim().regex(e164, 'An international number such as +15550100000')]),
});
type Values = z.infer<typeof schema>;

function PhoneForm({ business, canEdit }: TabProps) {
  const values = (b: typeof business): Values => ({ phone_e164: b.phone_e164, whatsapp_number: b.whatsapp_number ?? '' });
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: values(business) });
  const [formError, setFormError] = useState<string | null>(null);
  const { save, isSaving } = useSaveBusiness(form, { phone_e164: 'phone_e164', whatsapp_number: 'whatsapp_number' }, (b) => form.reset(values(b)));
  const { errors } = form.formState;
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) =>
        void form.handleSubmit(async (v) =>
          setFormError(await save(business.id, { phone_e164: v.phone_e164, whatsapp_number: v.whatsapp_number || null })),
        )(e)
      }
    >
      <InputField label="Phone number" type="tel" autoComplete="tel" hint="Calls to this number are answered by your receptionist." error={errors.phone_e164?.message} disabled={!canEdit} {...form.register('phone_e164')} />
      <InputField label="WhatsApp number" type="tel" hint="Leave empty if it is the same phone." error={errors.whatsapp_number?.message} disabled={!canEdit} {...form.register('whatsapp_number')} />
      <FormFooter formError={formError} canEdit={canEdit} isSaving={isSaving} />
    </form>
  );
}

export default function PhoneSettingsRoute() {
  return (
    <SettingsSection id="phone" title="Phone" description="The number your callers dial.">
      <BusinessTab>{(props) => <PhoneForm {...props} />}</BusinessTab>
    </SettingsSection>
  );
}
