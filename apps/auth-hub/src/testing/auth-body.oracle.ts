/**
 * The rules of the auth hub's request bodies restated independently of the DTOs and the domain
 * library, so the fuzz test can say what each random body must get.
 */
type Body = Record<string, unknown>;

const plain = (v: unknown): v is Body => !!v && typeof v === 'object' && !Array.isArray(v);
const onlyKeys = (body: Body, keys: string[]) => Object.keys(body).every((k) => keys.includes(k));
const chars = (s: string) => [...s].length;

/** name@domain.tld with dot-atom characters before the @ and DNS labels after it, at most 254 characters. */
export function isAcceptedEmail(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const email = v.trim();
  if (email.length > 254) return false;
  const match = /^([^@]+)@([^@]+)$/.exec(email);
  if (!match) return false;
  const [, local, domain] = match;
  const atext = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
  const label = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
  const labels = domain.split('.');
  return (
    local.length <= 64 &&
    local.split('.').every((part) => atext.test(part)) &&
    domain.length <= 253 &&
    labels.length >= 2 &&
    labels.every((l) => l.length <= 63 && label.test(l)) &&
    /^[A-Za-z]/.test(labels[labels.length - 1])
  );
}

/** The password policy: 10-128 characters (after NFKC), no control characters, not only spaces, not the address. */
export function isAcceptedNewPassword(v: unknown, email: unknown): boolean {
  if (typeof v !== 'string' || /\p{Surrogate}/u.test(v)) return false;
  const length = chars(v.normalize('NFKC'));
  if (length < 10 || length > 128 || /\p{Cc}/u.test(v) || v.trim() === '') return false;
  return typeof email !== 'string' || v.trim().toLowerCase() !== email.trim().toLowerCase();
}

/** The accounts the oracle knows: normalized address -> password. */
export type KnownAccounts = Map<string, string>;

/** What `POST /users` must answer; `accounts` holds those registered so far (a 201 adds one). */
export function expectedRegisterStatus(body: unknown, accounts: KnownAccounts): number {
  if (!plain(body) || !onlyKeys(body, ['email', 'password'])) return 400;
  if (!isAcceptedEmail(body['email']) || !isAcceptedNewPassword(body['password'], body['email'])) return 400;
  const key = body['email'].trim().toLowerCase();
  if (accounts.has(key)) return 409;
  accounts.set(key, body['password'] as string);
  return 201;
}

/**
 * What `POST /sessions` must answer: every attempt counts against its normalized address, past
 * `perAccount` it is a 429, and a right password (a 201) clears the count.
 */
export function expectedLoginStatus(body: unknown, accounts: KnownAccounts, attempts: Map<string, number>, perAccount: number): number {
  if (!plain(body) || !onlyKeys(body, ['email', 'password'])) return 400;
  const password = body['password'];
  if (!isAcceptedEmail(body['email']) || typeof password !== 'string' || password === '' || chars(password) > 128) return 400;
  const key = body['email'].trim().toLowerCase();
  const count = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, count);
  if (count > perAccount) return 429;
  if (accounts.get(key) !== password) return 401;
  attempts.delete(key);
  return 201;
}

/** 413 for a body larger than the limit (nothing else is looked at), else what `rule` says. */
export function withinBodyLimit(limit: number, rule: (body: unknown) => number): (body: unknown) => number {
  return (body) => (Buffer.byteLength(JSON.stringify(body)) > limit ? 413 : rule(body));
}

/** What `POST /sessions/refresh` must answer for a body holding no issued token. */
export function expectedRefreshStatus(body: unknown): number {
  if (!plain(body) || !onlyKeys(body, ['refreshToken'])) return 400;
  const token = body['refreshToken'];
  return typeof token === 'string' && token.length <= 128 ? 401 : 400;
}
