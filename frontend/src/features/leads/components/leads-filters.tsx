// The leads table's search and filters, kept in the URL (?q=&status=&source=&sort=&page=).
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import { useSearchParams } from 'react-router';
import { z } from 'zod';

import { Button } from '@/components/ui/button';
import { InputField, SelectField } from '@/components/ui/field';
import { humanize } from '@/utils/format';

import type { LeadFilters } from '../api/get-leads';
import { LEAD_SORTS, LEAD_SOURCES, LEAD_STATUSES, STATUS_LABELS } from '../api/types';

const FiltersSchema = z.object({
  q: z.string().trim().min(1).max(100).optional().catch(undefined),
  status: z.enum(LEAD_STATUSES).optional().catch(undefined),
  source: z.enum(LEAD_SOURCES).optional().catch(undefined),
  sort: z.enum(LEAD_SORTS).optional().catch(undefined),
  page: z.coerce.number().int().min(1).optional().catch(undefined),
});

export const PER_PAGE = 25;

export function useLeadFilters(): [LeadFilters, (change: Partial<LeadFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const filters = FiltersSchema.parse(Object.fromEntries(params));
  const update = (change: Partial<LeadFilters>) => {
    const next = { ...filters, page: undefined, ...change };
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) {
      if (value !== undefined && value !== '' && !(key === 'page' && value === 1)) search.set(key, String(value));
    }
    setParams(search);
  };
  return [{ ...filters, page: filters.page ?? 1, per_page: PER_PAGE }, update];
}

const SearchSchema = z.object({ q: z.string().trim().max(100, 'At most 100 characters') });

const STATUS_OPTIONS = [{ value: '', label: 'Any status' }, ...LEAD_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] }))];
const SOURCE_OPTIONS = [{ value: '', label: 'Any source' }, ...LEAD_SOURCES.map((s) => ({ value: s, label: humanize(s) }))];
const SORT_OPTIONS = [
  { value: '', label: 'Newest first' },
  { value: '+created_at', label: 'Oldest first' },
  { value: 'name', label: 'Name' },
  { value: 'last_contact_at', label: 'Last contact' },
];

export function LeadsFilters({ filters, onChange }: { filters: LeadFilters; onChange: (change: Partial<LeadFilters>) => void }) {
  const {
    register,
    handleSubmit,
    formState: { errors },
  } = useForm<z.infer<typeof SearchSchema>>({ resolver: zodResolver(SearchSchema), values: { q: filters.q ?? '' } });
  return (
    <div className="stack" style={{ gap: 12 }}>
      <form
        role="search"
        className="row"
        style={{ alignItems: 'flex-end' }}
        onSubmit={(event) => void handleSubmit(({ q }) => onChange({ q: q || undefined }))(event)}
      >
        <InputField
          label="Search"
          type="search"
          placeholder="Name, phone or email"
          className="spacer"
          error={errors.q?.message}
          {...register('q')}
        />
        <Button type="submit" variant="secondary">
          Search
        </Button>
      </form>
      <form className="filters" aria-label="Filter leads" onSubmit={(event) => event.preventDefault()}>
        <SelectField
          label="Status"
          options={STATUS_OPTIONS}
          value={filters.status ?? ''}
          onChange={(event) => onChange({ status: (event.target.value || undefined) as LeadFilters['status'] })}
        />
        <SelectField
          label="Source"
          options={SOURCE_OPTIONS}
          value={filters.source ?? ''}
          onChange={(event) => onChange({ source: (event.target.value || undefined) as LeadFilters['source'] })}
        />
        <SelectField
          label="Sort"
          options={SORT_OPTIONS}
          value={filters.sort ?? ''}
          onChange={(event) => onChange({ sort: (event.target.value || undefined) as LeadFilters['sort'] })}
        />
      </form>
    </div>
  );
}
