import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { EMAIL_MAX, emailProblem, PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from '@zdm/auth-domain';
import { ValidateBy } from 'class-validator';

/** A field checked by `problem` (undefined when fine), whose message is the problem itself. */
function Checked(name: string, problem: (value: unknown, body: Record<string, unknown>) => string | undefined): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value, args) => problem(value, (args?.object ?? {}) as Record<string, unknown>) === undefined,
      defaultMessage: (args) => problem(args?.value, (args?.object ?? {}) as Record<string, unknown>) ?? '',
    },
  });
}

/** `email`: an address like name@example.com; trimmed and lower-cased before it is stored or looked up. */
export function EmailField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: String, format: 'email', maxLength: EMAIL_MAX, example: 'ada@example.com', description: 'Trimmed and lower-cased: one account per address' }),
    Checked('isEmailAddress', (value) => emailProblem(value)),
  );
}

/** `password` of a new account: the password policy (10-128 characters, not the e-mail address). */
export function NewPasswordField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: String, format: 'password', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description: `${PASSWORD_MIN}-${PASSWORD_MAX} characters, any printable ones (spaces and emoji too), not the e-mail address` }),
    Checked('passwordPolicy', (value, body) => passwordProblem(value, typeof body['email'] === 'string' ? body['email'] : undefined)),
  );
}

/** `password` at login: any string up to the policy's maximum (longer ones cannot match, and are not hashed). */
export function PasswordField(): PropertyDecorator {
  const problem = (value: unknown) =>
    typeof value !== 'string' ? 'password must be a string' : [...value].length > PASSWORD_MAX ? `password must be at most ${PASSWORD_MAX} characters` : value === '' ? 'password must not be empty' : undefined;
  return applyDecorators(ApiProperty({ type: String, format: 'password', minLength: 1, maxLength: PASSWORD_MAX }), Checked('isPassword', problem));
}
