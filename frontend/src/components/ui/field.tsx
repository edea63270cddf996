import { useId, type InputHTMLAttributes, type ReactNode, type Ref, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

type FieldChrome = {
  label: ReactNode;
  hint?: ReactNode;
  /** The message of a failed rule (react-hook-form's fieldState.error?.message). */
  error?: string | undefined;
  className?: string;
};

function Chrome({ id, label, hint, error, className, children }: FieldChrome & { id: string; children: ReactNode }) {
  return (
    <div className={['field', className].filter(Boolean).join(' ')}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error ? <span className="hint" id={`${id}-hint`}>{hint}</span> : null}
      {error ? (
        <span className="error" id={`${id}-error`} role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function describedBy(id: string, hint: ReactNode, error: string | undefined): string | undefined {
  if (error) return `${id}-error`;
  return hint ? `${id}-hint` : undefined;
}

export type InputFieldProps = FieldChrome &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'className'> & { ref?: Ref<HTMLInputElement> };

export function InputField({ label, hint, error, className, id, ...input }: InputFieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  return (
    <Chrome id={inputId} label={label} hint={hint} error={error} className={className}>
      <input
        id={inputId}
        className="input"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(inputId, hint, error)}
        {...input}
      />
    </Chrome>
  );
}

export type SelectFieldProps = FieldChrome &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, 'className'> & {
    options: ReadonlyArray<{ value: string; label: string }>;
    ref?: Ref<HTMLSelectElement>;
  };

export function SelectField({ label, hint, error, className, id, options, ...select }: SelectFieldProps) {
  const generated = useId();
  const selectId = id ?? generated;
  return (
    <Chrome id={selectId} label={label} hint={hint} error={error} className={className}>
      <select
        id={selectId}
        className="select"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(selectId, hint, error)}
        {...select}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Chrome>
  );
}

export type TextareaFieldProps = FieldChrome &
  Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'className'> & { ref?: Ref<HTMLTextAreaElement> };

export function TextareaField({ label, hint, error, className, id, ...textarea }: TextareaFieldProps) {
  const generated = useId();
  const areaId = id ?? generated;
  return (
    <Chrome id={areaId} label={label} hint={hint} error={error} className={className}>
      <textarea
        id={areaId}
        className="textarea"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(areaId, hint, error)}
        {...textarea}
      />
    </Chrome>
  );
}
