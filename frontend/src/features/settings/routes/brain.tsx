// Settings → Brain: which brain answers (receptionist, echo, openai_realtime) and its settings —
// the keypad menu (brain_settings.menu: [{digit, label, intent}], contracts/call_setup.py) and,
// for the OpenAI Realtime brain, its prompt and voice. Other keys of brain_settings are kept.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useFieldArray, useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';

import { Button } from '@/components/ui/button';
import { InputField, SelectField, TextareaField } from '@/components/ui/field';

import type { Business } from '../api/get-business';
import { BusinessTab, FormFooter, SettingsSection, useSaveBusiness, type TabProps } from '../components/business-tab';

const BRAINS = [
  { value: 'receptionist', label: 'Receptionist (takes messages, keypad menu; runs offline)' },
  { value: 'openai_realtime', label: 'OpenAI Realtime (conversational AI)' },
  { value: 'echo', label: 'Echo (repeats the caller: for testing lines)' },
] as const;
const KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D'].map((key) => ({ value: key, label: key }));

const schema = z
  .object({
    brain: z.enum(['receptionist', 'openai_realtime', 'echo']),
    menu: z.array(
      z.object({
        digit: z.string().regex(/^[0-9A-D]$/, 'A keypad key'),
        label: z.string().trim().max(80, 'At most 80 characters (it is read out)'),
        intent: z
          .string()
          .trim()
          .min(1, 'Name what the caller wants, e.g. sales')
          .max(64, 'At most 64 characters'),
      }),
    ),
    prompt: z.string().trim().max(8000, 'At most 8000 characters'),
    voice: z.string().trim().max(50, 'At most 50 characters'),
  })
  .superRefine((values, ctx) => {
    const seen = new Set<string>();
    values.menu.forEach((option, index) => {
      if (seen.has(option.digit)) {
        ctx.addIssue({ code: 'custom', path: ['menu', index, 'digit'], message: `Key ${option.digit} is used twice` });
      }
      seen.add(option.digit);
    });
  });
type Values = z.infer<typeof schema>;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function valuesOf(business: Business): Values {
  const settings = business.brain_settings;
  const menu = Array.isArray(settings.menu)
    ? (settings.menu as unknown[]).flatMap((item) => {
        if (typeof item !== 'object' || item === null) return [];
        const { digit, label, intent } = item as Record<string, unknown>;
        return [{ digit: typeof digit === 'number' ? String(digit) : text(digit), label: text(label), intent: text(intent) }];
      })
    : [];
  return { brain: business.brain, menu, prompt: text(settings.prompt ?? settings.instructions), voice: text(settings.voice) };
}

function BrainForm({ business, canEdit }: TabProps) {
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: valuesOf(business) });
  const menu = useFieldArray({ control: form.control, name: 'menu' });
  const brain = useWatch({ control: form.control, name: 'brain' });
  const [formError, setFormError] = useState<string | null>(null);
  const { save, isSaving } = useSaveBusiness(form, { brain: 'brain', brain_settings: 'menu' }, (b) => form.reset(valuesOf(b)));
  const { errors } = form.formState;

  const onSubmit = form.handleSubmit(async (values) => {
    const { instructions: _old, prompt: _prompt, voice: _voice, ...kept } = business.brain_settings;
    const settings: Record<string, unknown> = {
      ...kept,
      menu: values.menu.map(({ digit, label, intent }) => ({ digit, label: label || intent, intent })),
      ...(values.prompt ? { prompt: values.prompt } : {}),
      ...(values.voice ? { voice: values.voice } : {}),
    };
    setFormError(await save(business.id, { brain: values.brain, brain_settings: settings }));
  });

  const menuError = errors.menu?.message ?? errors.menu?.root?.message;
  return (
    <form className="stack" noValidate onSubmit={(e) => void onSubmit(e)}>
      <SelectField label="Brain" options={BRAINS} error={errors.brain?.message} disabled={!canEdit} {...form.register('brain')} />
      <fieldset className="stack" style={{ border: 0, padding: 0, margin: 0 }} aria-describedby="menu-help">
        <legend>
          <strong>Keypad menu</strong>
        </legend>
        <p id="menu-help" className="muted small">
          “Press 1 for new patients”: the key, what is said, and the intent recorded on the lead. Empty: the brain’s
          default menu.
        </p>
        {menu.fields.map((field, index) => (
          <div key={field.id} className="menu-row">
            <SelectField label="Key" options={KEYS} error={errors.menu?.[index]?.digit?.message} disabled={!canEdit} {...form.register(`menu.${index}.digit`)} />
            <InputField label="Said as" placeholder="new patients" error={errors.menu?.[index]?.label?.message} disabled={!canEdit} {...form.register(`menu.${index}.label`)} />
            <InputField label="Intent" placeholder="sales" error={errors.menu?.[index]?.intent?.message} disabled={!canEdit} {...form.register(`menu.${index}.intent`)} />
            {canEdit ? (
              <Button variant="ghost" size="sm" onClick={() => menu.remove(index)} aria-label={`Remove key ${String(index + 1)}`}>
                Remove
              </Button>
            ) : null}
          </div>
        ))}
        {menuError ? (
          <span className="error" role="alert">
            {menuError}
          </span>
        ) : null}
        {canEdit ? (
          <div>
            <Button
              variant="secondary"
              size="sm"
              disabled={menu.fields.length >= KEYS.length}
              onClick={() => {
                const used = new Set(form.getValues('menu').map((m) => m.digit));
                const free = KEYS.find((k) => k.value !== '0' && !used.has(k.value)) ?? KEYS.find((k) => !used.has(k.value));
                menu.append({ digit: free?.value ?? '1', label: '', intent: '' });
              }}
            >
              Add a key
            </Button>
          </div>
        ) : null}
      </fieldset>
      {brain === 'openai_realtime' ? (
        <>
          <TextareaField label="Instructions" rows={6} hint="How the assistant behaves: your hours, services, tone." error={errors.prompt?.message} disabled={!canEdit} {...form.register('prompt')} />
          <InputField label="Voice" placeholder="alloy" hint="Empty: the service default." error={errors.voice?.message} disabled={!canEdit} {...form.register('voice')} />
        </>
      ) : null}
      <FormFooter formError={formError} canEdit={canEdit} isSaving={isSaving} />
    </form>
  );
}

export default function BrainSettingsRoute() {
  return (
    <SettingsSection id="brain" title="Brain" description="How the receptionist thinks and answers.">
      <BusinessTab>{(props) => <BrainForm {...props} />}</BusinessTab>
    </SettingsSection>
  );
}
