import { isUtf8 } from 'node:buffer';
import { Doc } from '@zdm/migrations-core';
import type { RedisTarget } from './redis.target';

/** A stored value read back: the document and its version, or why it cannot be read. */
export type DecodedValue = { ok: true; doc: Doc; version: number } | { ok: false; reason: string };

/** Where the version of a value is carried; see {@link RedisTarget.versioning} (a relocated value is read as in `key-name`: its key says the version). */
export type Versioning = Exclude<RedisTarget['versioning'], 'relocate'>;

const VERSION_FIELD = '_v';

function withoutVersion(doc: Doc): Doc {
  if (!(VERSION_FIELD in doc)) return doc;
  const { [VERSION_FIELD]: _dropped, ...rest } = doc;
  return rest;
}

/**
 * Decodes a stored string value: UTF-8 JSON holding an object. In `value` mode `_v` is the version
 * (absent means 1); in `key-name` mode the key carries it and `keyVersion` is used. `_v` is never
 * part of the returned document.
 */
export function decodeValue(raw: Buffer, versioning: Versioning, keyVersion = 1): DecodedValue {
  if (!isUtf8(raw)) return { ok: false, reason: 'value is not valid UTF-8' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `value is not JSON: ${(err as Error).message}` };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, reason: `value is JSON ${Array.isArray(parsed) ? 'array' : String(parsed === null ? null : typeof parsed)}, not an object` };
  }
  const doc = parsed as Doc;
  if (versioning === 'key-name') return { ok: true, doc: withoutVersion(doc), version: keyVersion };
  const v = doc[VERSION_FIELD];
  if (v === undefined) return { ok: true, doc, version: 1 };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return { ok: false, reason: `_v is ${JSON.stringify(v)}, not an integer >= 1` };
  return { ok: true, doc: withoutVersion(doc), version: v };
}

/**
 * Encodes a document at `version`. In `value` mode `_v` is appended, except for version 1, which is
 * written without `_v` (absent means 1), so rolling back restores the original bytes when `up` only
 * added fields.
 */
export function encodeValue(doc: Doc, version: number, versioning: Versioning): string {
  const plain = withoutVersion(doc);
  if (versioning === 'key-name' || version === 1) return JSON.stringify(plain);
  return JSON.stringify({ ...plain, [VERSION_FIELD]: version });
}

/** JSON for control records, with `Date`s kept as `{"$date": iso}` and revived on decode. */
export function encodeRecord(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : v;
  });
}

export function decodeRecord<T>(text: string): T {
  return JSON.parse(text, (_key, v) =>
    v && typeof v === 'object' && typeof v.$date === 'string' && Object.keys(v).length === 1 ? new Date(v.$date) : v,
  ) as T;
}
