/** Longest accepted e-mail address, in characters (RFC 5321's path limit less the brackets). */
export const EMAIL_MAX = 254;

/** Longest accepted local part (before the `@`), in characters. */
const LOCAL_MAX = 64;

/** A dot-atom local part (letters, digits and the RFC 5322 atext symbols), no quoted strings. */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** A host name of at least two labels, each 1-63 letters, digits or inner hyphens. */
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `value` is not an e-mail address this service accepts, or undefined when it is one. */
export function emailProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'email must be a string';
  const email = value.trim();
  if (email.length > EMAIL_MAX) return `email must be at most ${EMAIL_MAX} characters`;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return 'email must be an address like name@example.com';
  const [local, domain] = [email.slice(0, at), email.slice(at + 1)];
  if (local.length > LOCAL_MAX) return `email must have at most ${LOCAL_MAX} characters before the @`;
  if (!LOCAL.test(local) || !DOMAIN.test(domain)) return 'email must be an address like name@example.com (letters, digits and . _ + - before the @, a domain name after it)';
  return undefined;
}

/**
 * The form an address is stored and looked up in: trimmed and lower-cased, so `Ada@Example.com`
 * and ` ada@example.com ` are one account. Only accepted addresses (see {@link emailProblem}) are
 * normalized, and those are ASCII, so lower-casing is exact.
 */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}
