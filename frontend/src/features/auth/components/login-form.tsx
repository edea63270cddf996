import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/field';
import { isApiError } from '@/lib/api-client';
import { loginInputSchema, useLogin, type LoginInput, type User } from '@/lib/auth';

function loginProblem(error: unknown): string {
  if (isApiError(error, 401)) return 'Wrong email or password.';
  if (isApiError(error, 429)) {
    const wait = error.retryAfterSeconds;
    return `Too many attempts. Try again ${wait ? `in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}` : 'later'}.`;
  }
  if (isApiError(error)) return error.message;
  return 'Could not log in. Please try again.';
}

export function LoginForm({ onSuccess }: { onSuccess: (user: User) => void }) {
  const login = useLogin({ onSuccess });
  const {
    register,
    handleSubmit,
    formState: { errors },
  } = useForm<LoginInput>({ resolver: zodResolver(loginInputSchema), defaultValues: { email: '', password: '' } });

  return (
    <form className="stack" noValidate onSubmit={(event) => void handleSubmit((values) => login.mutate(values))(event)}>
      {login.isError ? (
        <div className="alert alert-error" role="alert">
          {loginProblem(login.error)}
        </div>
      ) : null}
      <InputField
        label="Email"
        type="email"
        autoComplete="username"
        inputMode="email"
        error={errors.email?.message}
        {...register('email')}
      />
      <InputField
        label="Password"
        type="password"
        autoComplete="current-password"
        error={errors.password?.message}
        {...register('password')}
      />
      <Button type="submit" block isLoading={login.isPending}>
        Log in
      </Button>
    </form>
  );
}
