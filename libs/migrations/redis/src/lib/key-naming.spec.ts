import { globToRegExp, parseVersionedKey, scanPatternOf, versionedKey } from './key-naming';

describe('key naming in key-name versioning', () => {
  it('keeps version 1 under the base key and suffixes later versions with :v<n>', () => {
    expect(versionedKey('session:42', 1)).toBe('session:42');
    expect(versionedKey('session:42', 2)).toBe('session:42:v2');
    expect(versionedKey('session:42', 13)).toBe('session:42:v13');
  });

  it('parses a stored key back into its base and version', () => {
    for (const [base, version] of [
      ['session:42', 1],
      ['session:42', 2],
      ['a:b:c', 10],
    ] as const) {
      expect(parseVersionedKey(versionedKey(base, version))).toEqual({ base, version });
    }
  });

  it('treats :v1, :v0 and :v02 as part of the base, since they are never written', () => {
    expect(parseVersionedKey('session:42:v1')).toEqual({ base: 'session:42:v1', version: 1 });
    expect(parseVersionedKey('session:v0')).toEqual({ base: 'session:v0', version: 1 });
    expect(parseVersionedKey('session:v02')).toEqual({ base: 'session:v02', version: 1 });
  });

  it('refuses versions that are not whole numbers from 1', () => {
    expect(() => versionedKey('s', 0)).toThrow(/integer >= 1/);
    expect(() => versionedKey('s', 1.5)).toThrow(/integer >= 1/);
  });

  it('scans <pattern>* in key-name mode so the versioned names are found too', () => {
    expect(scanPatternOf('session:*', 'key-name')).toBe('session:*');
    expect(scanPatternOf('session:*:data', 'key-name')).toBe('session:*:data*');
    expect(scanPatternOf('session:*:data', 'value')).toBe('session:*:data');
  });
});

describe('globToRegExp', () => {
  const cases: [string, string[], string[]][] = [
    ['session:*', ['session:', 'session:42', 'session:a:b'], ['sessions:1', 'xsession:1']],
    ['s?:1', ['sa:1', 's-:1'], ['s:1', 'sab:1']],
    ['s[ab]:*', ['sa:1', 'sb:'], ['sc:1']],
    ['s[^ab]:*', ['sc:1'], ['sa:1']],
    ['s[a-c]x', ['sbx'], ['sdx']],
    ['a.b+c(*)', ['a.b+c(1)'], ['aXb+c(1)']],
    ['lit\\*', ['lit*'], ['lit', 'litx']],
  ];
  it.each(cases)('matches %s the way SCAN MATCH does', (pattern, yes, no) => {
    const re = globToRegExp(pattern);
    for (const key of yes) expect(re.test(key)).toBe(true);
    for (const key of no) expect(re.test(key)).toBe(false);
  });
});
