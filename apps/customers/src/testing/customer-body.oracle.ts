/**
 * The rules of the customers API restated independently of the DTOs and the service, so the fuzz
 * test can say what each random body must get. Written for an instance that writes v1 or v2 (the
 * v3 fields are then a 409).
 */
const STATUSES = ['Active', 'Inactive', 'Blocked'];
const NO_CONTROL = /^[^\p{Cc}]*$/u;
/** Code points that show nothing on their own (besides spaces and control characters), as ranges. */
const INVISIBLE: [number, number][] = [
  [0xad, 0xad], [0x34f, 0x34f], [0x61c, 0x61c], [0x115f, 0x1160], [0x17b4, 0x17b5], [0x180b, 0x180f], [0x200b, 0x200f],
  [0x202a, 0x202e], [0x2060, 0x206f], [0x2800, 0x2800], [0x3164, 0x3164], [0xfe00, 0xfe0f], [0xffa0, 0xffa0], [0xfff0, 0xfff8],
];
const visible = (ch: string) => {
  const cp = ch.codePointAt(0) ?? 0;
  return !/^[\s\p{Cc}]$/u.test(ch) && !INVISIBLE.some(([from, to]) => cp >= from && cp <= to);
};
const KNOWN = ['firstName', 'lastName', 'fullName', 'status', 'marketingPreferences'];

type Body = Record<string, unknown>;

/** The keys a fuzzer should favour. */
export const CUSTOMER_BODY_KEYS = KNOWN;

const plain = (v: unknown): v is Body => !!v && typeof v === 'object' && !Array.isArray(v);
const name = (v: unknown, allowEmpty: boolean, max = 100) =>
  typeof v === 'string' &&
  !/\p{Surrogate}/u.test(v) &&
  Array.from(v).length <= max &&
  NO_CONTROL.test(v.trim()) &&
  (Array.from(v).some(visible) || (allowEmpty && v.trim() === ''));
const optional = (body: Body, key: string, valid: (v: unknown) => boolean) => !(key in body) || valid(body[key]);
const preferences = (v: unknown) =>
  v === null || (plain(v) && Object.keys(v).sort().join() === 'email,sms' && typeof v['email'] === 'boolean' && typeof v['sms'] === 'boolean');
const join = (first: string, last: string) => (!last ? first : !first ? last : `${first} ${last}`);

/** What a POST (`current` absent) or PATCH of `body` must answer. */
export function expectedStatus(body: unknown, current?: { fullName: string }): number {
  const create = !current;
  if (!plain(body) || !Object.keys(body).every((k) => KNOWN.includes(k))) return 400;
  if (!create && Object.keys(body).length === 0) return 400;
  const hasFull = 'fullName' in body;
  const fieldsValid =
    optional(body, 'fullName', (v) => name(v, false, 201)) &&
    (create && !hasFull ? name(body['firstName'], false) && name(body['lastName'], true) : optional(body, 'firstName', (v) => name(v, false)) && optional(body, 'lastName', (v) => name(v, true))) &&
    optional(body, 'status', (v) => STATUSES.includes(v as string)) &&
    optional(body, 'marketingPreferences', preferences);
  if (!fieldsValid) return 400;
  if (hasFull) {
    const parts = ['firstName', 'lastName'].filter((k) => k in body).length;
    if (parts === 1) return 400;
    if (parts === 2 && join((body['firstName'] as string).trim(), (body['lastName'] as string).trim()) !== (body['fullName'] as string).trim()) return 400;
  }
  if ('status' in body || 'marketingPreferences' in body) return 409;
  return create ? 201 : 200;
}
