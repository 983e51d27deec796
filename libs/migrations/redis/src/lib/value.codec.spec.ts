import { decodeRecord, decodeValue, encodeRecord, encodeValue } from './value.codec';

const raw = (s: string) => Buffer.from(s, 'utf8');

describe('decodeValue', () => {
  it('reads _v as the version in value mode, with an absent _v meaning version 1', () => {
    expect(decodeValue(raw('{"a":1}'), 'value')).toEqual({ ok: true, doc: { a: 1 }, version: 1 });
    expect(decodeValue(raw('{"a":1,"_v":3}'), 'value')).toEqual({ ok: true, doc: { a: 1 }, version: 3 });
  });

  it('takes the version from the key in key-name mode and hides any _v', () => {
    expect(decodeValue(raw('{"a":1,"_v":9}'), 'key-name', 2)).toEqual({ ok: true, doc: { a: 1 }, version: 2 });
  });

  it.each([
    ['not json', /^value is not JSON: /],
    ['[1,2]', /^value is JSON array, not an object$/],
    ['null', /^value is JSON null, not an object$/],
    ['"text"', /^value is JSON string, not an object$/],
    ['{"_v":"2"}', /^_v is "2", not an integer >= 1$/],
    ['{"_v":0}', /^_v is 0, not an integer >= 1$/],
    ['{"_v":1.5}', /^_v is 1.5, not an integer >= 1$/],
  ])('explains why %s cannot be migrated', (text, reason) => {
    const decoded = decodeValue(raw(text), 'value');
    expect(decoded.ok).toBe(false);
    expect(decoded.ok === false && decoded.reason).toMatch(reason);
  });

  it('refuses bytes that are not UTF-8 instead of rewriting them with replacement characters', () => {
    expect(decodeValue(Buffer.from([0x7b, 0xff, 0x7d]), 'value')).toEqual({ ok: false, reason: 'value is not valid UTF-8' });
  });
});

describe('encodeValue', () => {
  it('appends _v from version 2 on and writes version 1 without it, so v1 bytes round-trip', () => {
    expect(encodeValue({ a: 1 }, 2, 'value')).toBe('{"a":1,"_v":2}');
    expect(encodeValue({ a: 1, _v: 2 }, 1, 'value')).toBe('{"a":1}');
    const original = '{"firstName":"a","lastName":"b"}';
    const decoded = decodeValue(raw(original), 'value');
    expect(decoded.ok && encodeValue(decoded.doc, 1, 'value')).toBe(original);
  });

  it('never writes _v in key-name mode', () => {
    expect(encodeValue({ a: 1, _v: 5 }, 3, 'key-name')).toBe('{"a":1}');
  });
});

describe('control record codec', () => {
  it('keeps nested dates as dates through a round trip', () => {
    const record = { at: new Date('2024-01-02T03:04:05.678Z'), nested: { list: [new Date(0)] }, n: 1, s: 'x', none: null };
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
  });
});
