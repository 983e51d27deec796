/** Shortest accepted password, in characters (Unicode code points). */
export const PASSWORD_MIN = 10;

/**
 * Longest accepted password, in characters. Bounded so that a request cannot make the KDF work on
 * megabytes, and well above what password managers generate.
 */
export const PASSWORD_MAX = 128;

/** C0 and C1 control characters: refused in a password (they cannot be typed, and break forms). */
const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Why `password` breaks the policy, or undefined when it passes. The rules follow NIST SP 800-63B:
 * a minimum length, a generous maximum, any printable character (spaces and emoji included), no
 * composition rules, and not the account's own e-mail address.
 */
export function passwordProblem(password: unknown, email?: string): string | undefined {
  if (typeof password !== 'string') return 'password must be a string';
  if (LONE_SURROGATE.test(password)) return 'password must be valid Unicode text: it contains a lone surrogate (invalid UTF-16)';
  const length = [...password.normalize('NFKC')].length;
  if (length < PASSWORD_MIN) return `password must be at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `password must be at most ${PASSWORD_MAX} characters`;
  if (CONTROL.test(password)) return 'password must not contain control characters';
  if (password.trim() === '') return 'password must not be only spaces';
  if (typeof email === 'string' && password.trim().toLowerCase() === email.trim().toLowerCase()) return 'password must not be the e-mail address';
  return undefined;
}

/**
 * The bytes a password is hashed as: NFKC-normalized UTF-8, so the same password typed on two
 * keyboards (composed or decomposed accents, full-width digits) is one password.
 */
export function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}
