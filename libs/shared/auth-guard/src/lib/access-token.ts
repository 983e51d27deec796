/** The JWS algorithm access tokens are signed with (Ed25519). */
export const ACCESS_TOKEN_ALG = 'EdDSA';

/** The `typ` header of access tokens (RFC 9068), so that no other JWT is taken for one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** The audience zdm services expect in access tokens unless configured otherwise. */
export const DEFAULT_AUDIENCE = 'zdm';

/** The issuer the auth hub names in access tokens unless configured otherwise. */
export const DEFAULT_ISSUER = 'zdm-auth-hub';

/** The claims of an access token, as the auth hub issues them and every service reads them. */
export interface AccessClaims {
  /** The user id. */
  sub: string;
  /** The session (refresh-token family) the token was issued in; logging out ends it. */
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
