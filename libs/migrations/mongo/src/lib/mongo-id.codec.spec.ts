import { mongo } from 'mongoose';
import { afterIdFilter, decodeId, encodeId } from './mongo-id.codec';

describe('encodeId / decodeId', () => {
  const oid = new mongo.ObjectId('65a1b2c3d4e5f60718293a4b');

  it('writes an ObjectId as its 24 hex digits, a string as JSON and a number as itself', () => {
    expect(encodeId(oid)).toBe('65a1b2c3d4e5f60718293a4b');
    expect(encodeId('cust-1')).toBe('"cust-1"');
    expect(encodeId(42)).toBe('42');
    expect(encodeId(-1.5)).toBe('-1.5');
  });

  it.each([
    ['an ObjectId', oid],
    ['a string', 'cust-1'],
    ['a string of 24 hex digits', '65a1b2c3d4e5f60718293a4b'],
    ['a string that looks like a number', '42'],
    ['a string with quotes and slashes', 'a"b\\c/d'],
    ['the empty string', ''],
    ['an integer', 7],
    ['a negative double', -0.25],
    ['a date', new Date('2026-01-02T03:04:05Z')],
    ['a boolean', true],
    ['an embedded document', { tenant: 't1', n: 3 }],
    ['a UUID', new mongo.BSON.UUID('0b5a3c7e-9a4b-4f4e-8f3a-2b1c0d9e8f7a')],
    ['a 64-bit integer beyond doubles', mongo.Long.fromString('9223372036854775807')],
  ])('round-trips %s', (_label, id) => {
    const back = decodeId(encodeId(id));
    expect(mongo.BSON.serialize({ id: back })).toEqual(mongo.BSON.serialize({ id }));
  });

  it('refuses a string it never produces, saying what it expected', () => {
    expect(() => decodeId('not an id')).toThrow('"not an id" is not a document id of the mongo adapter');
  });
});

describe('afterIdFilter', () => {
  it('continues after a number into strings, documents, ObjectIds and later types', () => {
    expect(afterIdFilter(5)).toEqual({
      $or: [{ _id: { $gt: 5 } }, { _id: { $type: ['string', 'object', 'binData', 'objectId', 'bool', 'date', 'timestamp', 'regex'] } }],
    });
  });

  it('continues after an ObjectId only into the types MongoDB sorts after it', () => {
    const oid = new mongo.ObjectId();
    expect(afterIdFilter(oid)).toEqual({ $or: [{ _id: { $gt: oid } }, { _id: { $type: ['bool', 'date', 'timestamp', 'regex'] } }] });
  });

  it('needs no type clause after the last bracket', () => {
    expect(afterIdFilter(/x/)).toEqual({ _id: { $gt: /x/ } });
  });
});
