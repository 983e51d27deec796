import { createHash, randomBytes } from 'node:crypto';

/** A session id: 22 base64url characters (128 random bits). */
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
/** A refresh token: `<sid>.<43 base64url characters>` (256 random bits after the session id). */
const REFRESH_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** Whether `value` looks like a session id. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/** A new random session id. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** A new refresh token of the session `sid`; only its SHA-256 is ever stored. */
export function newRefreshToken(sid: string): string {
  return `${sid}.${randomBytes(32).toString('base64url')}`;
}

/** The session a refresh token belongs to, or undefined when it is not shaped like one. */
export function refreshTokenSession(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  return REFRESH_TOKEN.exec(token)?.[1];
}

/** The stored form of a refresh token: its SHA-256, base64url. Tokens carry 256 random bits, so no salt or KDF is needed. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
