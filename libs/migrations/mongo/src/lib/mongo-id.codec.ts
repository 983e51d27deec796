import { mongo } from 'mongoose';

const { BSON, ObjectId } = mongo;
const HEX_ID = /^[0-9a-f]{24}$/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/**
 * The `_id` as the string the runner, checkpoints and quarantine entries carry. It round-trips
 * through {@link decodeId}: an ObjectId is its 24 hex digits, a string is JSON (`"cust-1"`), a
 * finite number is itself (`42`), anything else is canonical Extended JSON.
 */
export function encodeId(id: unknown): string {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return JSON.stringify(id);
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return BSON.EJSON.stringify(id, { relaxed: false });
}

/** The `_id` value a string from {@link encodeId} stands for; throws on a string it never produces. */
export function decodeId(key: string): unknown {
  if (HEX_ID.test(key)) return ObjectId.createFromHexString(key);
  if (key.startsWith('"')) return JSON.parse(key) as string;
  if (NUMBER.test(key)) return Number(key);
  try {
    return BSON.EJSON.parse(key, { relaxed: false });
  } catch {
    throw new Error(`"${key}" is not a document id of the mongo adapter (24 hex digits, a JSON string, a number or Extended JSON)`);
  }
}

/**
 * MongoDB compares `_id`s of different types by type bracket, and `$gt` never crosses a bracket.
 * Listed in sort order, so the walk can go on into the brackets after the current one.
 */
const BRACKETS: readonly string[] = ['null', 'number', 'string', 'object', 'binData', 'objectId', 'bool', 'date', 'timestamp', 'regex'];

function bracketOf(id: unknown): number {
  const bsonType = (id as { _bsontype?: string } | null)?._bsontype;
  if (id === null || id === undefined) return 0;
  if (typeof id === 'number' || ['Long', 'Double', 'Int32', 'Decimal128'].includes(bsonType ?? '')) return 1;
  if (typeof id === 'string' || bsonType === 'BSONSymbol') return 2;
  if (bsonType === 'Binary') return 4;
  if (bsonType === 'ObjectId') return 5;
  if (typeof id === 'boolean') return 6;
  if (id instanceof Date) return 7;
  if (bsonType === 'Timestamp') return 8;
  if (id instanceof RegExp || bsonType === 'BSONRegExp') return 9;
  return 3;
}

/** Matches every `_id` sorting after `last`, including those of later type brackets. */
export function afterIdFilter(last: unknown): Record<string, unknown> {
  const later = BRACKETS.slice(bracketOf(last) + 1);
  const sameBracket = { _id: { $gt: last } };
  return later.length ? { $or: [sameBracket, { _id: { $type: later } }] } : sameBracket;
}
