import type { ButtonHTMLAttributes, ReactNode, Ref } from 'react';
import { Link, type LinkProps } from 'react-router';

type Variant = 'primary' | 'secondary' | 'ghost' | 'danger';
type Size = 'md' | 'sm';

function classes(variant: Variant, size: Size, block: boolean, extra?: string): string {
  return ['btn', `btn-${variant}`, size === 'sm' && 'btn-sm', block && 'btn-block', extra].filter(Boolean).join(' ');
}

export type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: Variant;
  size?: Size;
  block?: boolean;
  /** Disables the button and says so to screen readers while an action runs. */
  isLoading?: boolean;
  icon?: ReactNode;
  ref?: Ref<HTMLButtonElement>;
};

export function Button({
  variant = 'primary',
  size = 'md',
  block = false,
  isLoading = false,
  icon,
  className,
  disabled,
  children,
  type = 'button',
  ...rest
}: ButtonProps) {
  return (
    <button
      type={type}
      className={classes(variant, size, block, className)}
      disabled={disabled || isLoading}
      aria-busy={isLoading || undefined}
      {...rest}
    >
      {isLoading ? <span className="spinner" style={{ width: 14, height: 14, borderWidth: 2 }} aria-hidden /> : icon}
      {children}
    </button>
  );
}

export type ButtonLinkProps = LinkProps & { variant?: Variant; size?: Size; block?: boolean };

/** A link that looks like a button (navigation stays a link for the keyboard and the browser). */
export function ButtonLink({ variant = 'secondary', size = 'md', block = false, className, ...rest }: ButtonLinkProps) {
  return <Link className={classes(variant, size, block, className)} {...rest} />;
}
