import { createHash, randomBytes } from 'node:crypto';

/** The JWS algorithm access tokens are signed with (Ed25519). */
export const ACCESS_TOKEN_ALG = 'EdDSA';

/** The `typ` header of access tokens (RFC 9068), so an ID token or other JWT is never taken for one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** The audience every zdm service expects in access tokens unless configured otherwise. */
export const DEFAULT_AUDIENCE = 'zdm';

/** The issuer access tokens name unless configured otherwise. */
export const DEFAULT_ISSUER = 'zdm-auth-hub';

/** The claims of an access token, as every service reads them. */
export interface AccessClaims {
  /** The user id (24 hexadecimal characters). */
  sub: string;
  /** The session (refresh-token family) the token was issued in; logout ends it. */
  sid: string;
  iss: string;
  aud: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
  /** A unique id per token. */
  jti: string;
}

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
