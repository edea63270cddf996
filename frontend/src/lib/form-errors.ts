// A refused form (422 invalid_body): each problem the server names goes under its field, the way
// the form's own rules show theirs; what names no field of the form is returned for an alert.
import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';

import { isApiError } from '@/lib/api-client';

/**
 * Map the API's `{field, problem}` details onto the form's fields.
 *
 * @param fields the API's field name (dotted for nested ones, e.g. "audience.q") → the form's field;
 *   a key `code:<error code>` places an error that names no field (e.g. `code:webhook_url_refused`).
 * @returns the message for the whole form when some problem names no field of it, else null.
 */
export function applyServerErrors<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  fields: Partial<Record<string, Path<T>>>,
): string | null {
  if (!isApiError(error)) return 'Something went wrong. Please try again.';
  const byCode = fields[`code:${error.code}`];
  if (byCode) {
    setError(byCode, { type: 'server', message: error.message }, { shouldFocus: true });
    return null;
  }
  const unplaced: string[] = [];
  let placed = 0;
  for (const { field, problem } of error.fieldProblems) {
    const target = fields[field] ?? fields[field.split('.')[0] ?? ''];
    if (target) {
      setError(target, { type: 'server', message: problem }, { shouldFocus: placed === 0 });
      placed += 1;
    } else {
      unplaced.push(field === '(body)' ? problem : `${field}: ${problem}`);
    }
  }
  if (unplaced.length) return unplaced.join('; ');
  return placed ? null : error.message;
}
