// A new broadcast: who gets it (a lead filter, with how many leads it reaches right now), the
// message, an optional attachment; "Send" creates it and starts it.
import { zodResolver } from '@hookform/resolvers/zod';
import { useDeferredValue, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';

import { Button } from '@/components/ui/button';
import { InputField, SelectField, TextareaField } from '@/components/ui/field';
import { Spinner, errorMessage } from '@/components/ui/states';
import { applyServerErrors } from '@/lib/form-errors';
import { humanize } from '@/utils/format';

import { useBroadcastAction } from '../api/broadcast-action';
import { useLeadCount } from '../api/count-leads';
import type { Audience } from '../api/create-broadcast';
import { useCreateBroadcast } from '../api/create-broadcast';
import { LEAD_SOURCES, LEAD_STATUSES, type Broadcast } from '../api/types';
import { ATTACHMENT_TYPES, useUploadAttachment, type Attachment } from '../api/upload-attachment';


const schema = z.object({
  name: z.string().trim().max(200, 'At most 200 characters'),
  status: z.string(),
  source: z.string(),
  q: z.string().trim().max(100, 'At most 100 characters'),
  text: z.string().trim().min(1, 'Write the message').max(4096, 'A message has at most 4096 characters'),
});
type Values = z.infer<typeof schema>;

const any = { value: '', label: 'Any' };

function audienceOf(values: Pick<Values, 'status' | 'source' | 'q'>): Audience {
  const audience: Audience = {};
  if (values.status) audience.status = values.status;
  if (values.source) audience.source = values.source;
  if (values.q.trim()) audience.q = values.q.trim();
  return audience;
}

export function CreateBroadcastForm({ onCreated }: { onCreated: (broadcast: Broadcast) => void }) {
  const [key] = useState(() => crypto.randomUUID());
  const [attachment, setAttachment] = useState<Attachment | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { name: '', status: '', source: '', q: '', text: '' },
  });
  const { errors, isSubmitting } = form.formState;
  const [status, source, q] = useWatch({ control: form.control, name: ['status', 'source', 'q'] });
  const audience = useDeferredValue(audienceOf({ status, source, q }));
  const count = useLeadCount(audience);
  const upload = useUploadAttachment();
  const create = useCreateBroadcast();
  const start = useBroadcastAction();

  const onSubmit = form.handleSubmit(async (values) => {
    setFormError(null);
    let made: Broadcast;
    try {
      made = await create.mutateAsync({
        name: values.name,
        text: values.text,
        attachment_id: attachment?.id ?? null,
        audience: audienceOf(values),
        key,
      });
    } catch (error) {
      setFormError(
        applyServerErrors(error, form.setError, {
          name: 'name',
          text: 'text',
          'audience.status': 'status',
          'audience.source': 'source',
          'audience.q': 'q',
        }),
      );
      return;
    }
    try {
      await start.mutateAsync({ id: made.id, action: 'start' });
    } catch {
      // Created but not started: its page says so and offers Start.
    }
    onCreated(made);
  });

  const reach = count.data;
  return (
    <form className="stack" onSubmit={(event) => void onSubmit(event)} noValidate aria-labelledby="new-broadcast">
      <h2 id="new-broadcast">New broadcast</h2>
      <InputField label="Name (for you)" placeholder="December offer" error={errors.name?.message} {...form.register('name')} />
      <fieldset className="stack" style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="stat-label">Recipients: leads matching</legend>
        <div className="filters">
          <SelectField
            label="Status"
            options={[any, ...LEAD_STATUSES.map((s) => ({ value: s, label: humanize(s) }))]}
            error={errors.status?.message}
            {...form.register('status')}
          />
          <SelectField
            label="Source"
            options={[any, ...LEAD_SOURCES.map((s) => ({ value: s, label: humanize(s) }))]}
            error={errors.source?.message}
            {...form.register('source')}
          />
          <InputField label="Name, phone or email contains" error={errors.q?.message} {...form.register('q')} />
        </div>
        <p aria-live="polite" data-testid="audience-count">
          {count.isError ? (
            <span className="muted">Could not count the leads: {errorMessage(count.error)}</span>
          ) : reach === undefined ? (
            <Spinner label="Counting the leads" />
          ) : (
            <strong>
              {reach === 1 ? '1 lead matches' : `${reach} leads match`}
            </strong>
          )}
        </p>
      </fieldset>
      <TextareaField label="Message" rows={5} error={errors.text?.message} {...form.register('text')} />
      <div className="field">
        <label htmlFor="broadcast-attachment">Attachment (optional: image or PDF)</label>
        <input
          id="broadcast-attachment"
          type="file"
          accept={ATTACHMENT_TYPES}
          onChange={(event) => {
            const file = event.target.files?.[0];
            setAttachment(null);
            if (file) upload.mutate(file, { onSuccess: setAttachment });
          }}
        />
        {upload.isPending ? <Spinner label="Uploading" /> : null}
        {upload.isError ? (
          <span className="error" role="alert">
            {errorMessage(upload.error)}
          </span>
        ) : null}
        {attachment ? <span className="hint">Attached ({Math.ceil(attachment.size_bytes / 1024)} KB).</span> : null}
      </div>
      {formError ? (
        <div className="alert alert-error" role="alert">
          {formError}
        </div>
      ) : null}
      <div className="row">
        <Button type="submit" isLoading={isSubmitting} disabled={upload.isPending || reach === 0}>
          {reach ? `Send to ${reach} ${reach === 1 ? 'lead' : 'leads'}` : 'Send'}
        </Button>
      </div>
    </form>
  );
}
