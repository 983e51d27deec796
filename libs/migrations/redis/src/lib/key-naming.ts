/**
 * Key names in `key-name` versioning.
 *
 * Version 1 lives under the base key itself; version n >= 2 under `<base>:v<n>`:
 *
 *     session:42      -> base session:42, v1
 *     session:42:v2   -> base session:42, v2
 *     session:42:v1   -> base session:42:v1, v1 (":v1" is never written, so it is part of the base)
 *
 * A base key must therefore not end in `:v<n>` with n >= 2. The key pattern of a migration is matched
 * against base keys; SCAN walks `<pattern>*` so that the versioned names are found too.
 */

const VERSION_SUFFIX = /^(.*):v([1-9][0-9]*)$/;

/** The key that holds version `version` of `base`. */
export function versionedKey(base: string, version: number): string {
  if (!Number.isInteger(version) || version < 1) throw new Error(`version must be an integer >= 1, got ${version} for ${base}`);
  return version === 1 ? base : `${base}:v${version}`;
}

/** Splits a stored key into its base and the version its name carries. */
export function parseVersionedKey(key: string): { base: string; version: number } {
  const m = VERSION_SUFFIX.exec(key);
  const version = m ? Number(m[2]) : 1;
  return m && version >= 2 ? { base: m[1], version } : { base: key, version: 1 };
}

/** A Redis glob (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`) as an anchored RegExp, as SCAN MATCH reads it. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The SCAN MATCH pattern that finds every stored key of a target: `<pattern>*` in key-name mode. */
export function scanPatternOf(keyPattern: string, versioning: 'value' | 'key-name'): string {
  return versioning === 'key-name' && !keyPattern.endsWith('*') ? `${keyPattern}*` : keyPattern;
}
