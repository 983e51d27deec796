import { mongo } from 'mongoose';
import { diffDocuments, isUnsafeFieldName, matchValue, sameValue } from './document.diff';

describe('sameValue', () => {
  it('compares values as MongoDB stores them', () => {
    const oid = new mongo.ObjectId();
    expect(sameValue(new mongo.ObjectId(oid.toHexString()), oid)).toBe(true);
    expect(sameValue(new Date(5), new Date(5))).toBe(true);
    expect(sameValue({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] })).toBe(true);
    expect(sameValue(undefined, undefined)).toBe(true);
  });

  it('tells apart values that differ in type, key order or presence', () => {
    expect(sameValue('1', 1)).toBe(false);
    expect(sameValue(1, 1.5)).toBe(false);
    expect(sameValue({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameValue(null, undefined)).toBe(false);
    expect(sameValue(new mongo.ObjectId(), new mongo.ObjectId())).toBe(false);
  });
});

describe('diffDocuments', () => {
  it('sets added and changed fields, unsets removed ones, and never touches _id', () => {
    const before = { _id: 1, firstName: 'Ada', lastName: 'L', tags: ['x'], gone: true };
    const after = { _id: 2, firstName: 'Ada', lastName: 'Lovelace', tags: ['x'], fullName: 'Ada Lovelace' };
    expect(diffDocuments(before, after)).toEqual({ set: { lastName: 'Lovelace', fullName: 'Ada Lovelace' }, unset: ['gone'] });
  });

  it('treats a field set to undefined as removed', () => {
    expect(diffDocuments({ a: 1, b: 2 }, { a: 1, b: undefined })).toEqual({ set: {}, unset: ['b'] });
  });

  it('finds nothing to do between equal documents', () => {
    expect(diffDocuments({ a: { b: new Date(1) } }, { a: { b: new Date(1) } })).toEqual({ set: {}, unset: [] });
  });
});

describe('isUnsafeFieldName', () => {
  it('flags names $set would read as a path or an operator', () => {
    expect(['a.b', '$x', ''].map(isUnsafeFieldName)).toEqual([true, true, true]);
    expect(['fullName', 'a$b', '_v'].map(isUnsafeFieldName)).toEqual([false, false, false]);
  });
});

describe('matchValue', () => {
  it('matches absence, null and values exactly', () => {
    expect(matchValue(undefined)).toEqual({ $exists: false });
    expect(matchValue(null)).toEqual({ $type: 'null' });
    expect(matchValue('x')).toEqual({ $eq: 'x' });
  });
});
