import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { passwordBytes } from './password-policy';

/** scrypt cost parameters, stored with every hash so they can be raised later and old hashes still verify. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N (N = 2^logN). */
  logN: number;
  /** Block size r. */
  r: number;
  /** Parallelisation p. */
  p: number;
}

/** The parameters of user documents at v1 unless configured otherwise: N = 2^15, r = 8, p = 1 (32 MiB, RFC 7914's interactive figure). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { logN: 15, r: 8, p: 1 };

/**
 * The parameters of user documents at v2 (`auth.password-hash`) unless configured otherwise:
 * N = 2^17, r = 8, p = 1, OWASP's minimum for scrypt: 128 MiB and 4 times v1's work per hash
 * (on the 2-core reference machine, under a load average of 12: 368-782 ms, median 521 ms, against
 * 86-118 ms, median 92 ms, at v1's 2^15). Within v1's bounds (logN <= 20), so a v1 build still
 * verifies a v2 hash after a rollback.
 */
export const STRONGER_SCRYPT_PARAMS: ScryptParams = { logN: 17, r: 8, p: 1 };

/** Length of the derived key and of the salt, in bytes. */
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** A stored hash: `$scrypt$ln=<logN>,r=<r>,p=<p>$<salt>$<key>` (salt and key in unpadded base64url). */
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{16,128})$/;

/** Bounds a stored hash's parameters must stay in, so a tampered record cannot make a login take minutes. */
const LIMITS = { logN: [10, 20], r: [1, 16], p: [1, 4] } as const;

/** A stored password hash, parsed. */
export interface ParsedPasswordHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/** Why `params` cannot be used, or undefined. */
export function scryptParamsProblem(params: ScryptParams): string | undefined {
  for (const name of ['logN', 'r', 'p'] as const) {
    const [min, max] = LIMITS[name];
    if (!Number.isInteger(params[name]) || params[name] < min || params[name] > max) return `scrypt ${name} must be a whole number from ${min} to ${max}`;
  }
  return undefined;
}

/** Parses a stored hash; throws naming the problem when it is not one this code wrote. */
export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const match = FORMAT.exec(stored);
  if (!match) throw new Error('not a $scrypt$ password hash');
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const problem = scryptParamsProblem(params);
  if (problem) throw new Error(`password hash parameters out of bounds: ${problem}`);
  return { params, salt: Buffer.from(match[4], 'base64url'), key: Buffer.from(match[5], 'base64url') };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  // scrypt needs 128 * N * r bytes (plus a little); Node's default cap of 32 MiB is too small past logN 14.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => scrypt(passwordBytes(password), salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Hashes `password` with a fresh random salt and `params`, in the stored format. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const problem = scryptParamsProblem(params);
  if (problem) throw new Error(problem);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `password` matches `stored`, compared in constant time; the KDF runs with the stored hash's own parameters. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { params, salt, key } = parsePasswordHash(stored);
  const candidate = await derive(password, salt, params, key.length);
  return timingSafeEqual(candidate, key);
}

/** Whether `stored` was made with parameters other than `current` (it should be re-hashed at the next successful login). */
export function needsRehash(stored: string, current: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const { params } = parsePasswordHash(stored);
  return params.logN !== current.logN || params.r !== current.r || params.p !== current.p;
}
