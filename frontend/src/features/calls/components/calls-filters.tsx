// The calls list's filters. They live in the URL (?status=&direction=&lead_id=&page=), so a
// filtered list can be linked, reloaded and reached with Back.
import { useSearchParams } from 'react-router';
import { z } from 'zod';

import { SelectField } from '@/components/ui/field';
import { humanize } from '@/utils/format';

import type { CallFilters } from '../api/get-calls';
import { CALL_STATUSES } from '../api/types';

const FiltersSchema = z.object({
  status: z.enum(CALL_STATUSES).optional().catch(undefined),
  direction: z.enum(['inbound', 'outbound']).optional().catch(undefined),
  lead_id: z.coerce.number().int().positive().optional().catch(undefined),
  page: z.coerce.number().int().min(1).optional().catch(undefined),
});

export const PER_PAGE = 25;

export function useCallFilters(): [CallFilters, (change: Partial<CallFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const filters = FiltersSchema.parse(Object.fromEntries(params));
  const update = (change: Partial<CallFilters>) => {
    const next = { ...filters, page: undefined, ...change };
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) {
      if (value !== undefined && !(key === 'page' && value === 1)) search.set(key, String(value));
    }
    setParams(search);
  };
  return [{ ...filters, page: filters.page ?? 1, per_page: PER_PAGE }, update];
}

const STATUS_OPTIONS = [{ value: '', label: 'Any status' }, ...CALL_STATUSES.map((s) => ({ value: s, label: humanize(s) }))];
const DIRECTION_OPTIONS = [
  { value: '', label: 'Both directions' },
  { value: 'inbound', label: 'Inbound' },
  { value: 'outbound', label: 'Outbound' },
];

export function CallsFilters({
  filters,
  onChange,
  leadLabel,
}: {
  filters: CallFilters;
  onChange: (change: Partial<CallFilters>) => void;
  leadLabel?: string | undefined;
}) {
  return (
    <form className="filters" aria-label="Filter calls" onSubmit={(event) => event.preventDefault()}>
      <SelectField
        label="Status"
        options={STATUS_OPTIONS}
        value={filters.status ?? ''}
        onChange={(event) => onChange({ status: (event.target.value || undefined) as CallFilters['status'] })}
      />
      <SelectField
        label="Direction"
        options={DIRECTION_OPTIONS}
        value={filters.direction ?? ''}
        onChange={(event) => onChange({ direction: (event.target.value || undefined) as CallFilters['direction'] })}
      />
      {filters.lead_id ? (
        <div className="field">
          <span className="small" style={{ fontWeight: 550 }}>
            Lead
          </span>
          <span className="row" style={{ minHeight: 40, gap: 6 }}>
            <span className="badge badge-brand">{leadLabel ?? `Lead #${filters.lead_id}`}</span>
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange({ lead_id: undefined })}>
              Clear<span className="visually-hidden"> the lead filter</span>
            </button>
          </span>
        </div>
      ) : null}
    </form>
  );
}
