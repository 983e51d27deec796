import { z } from 'zod';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER } from './access-token';
import type { AccessTokenVerifierOptions } from './access-token.verifier';

/**
 * The environment of a service that verifies access tokens, to merge into its config schema
 * (`mongoServiceConfig('orders').extend(accessTokenConfig)`): where the auth hub publishes its keys,
 * and the issuer and audience tokens must name. AUTH_JWKS_URL is required: a service that guards
 * writes does not start without it, and says so.
 */
export const accessTokenConfig = {
  /** The auth hub's key set, e.g. `http://auth-hub:3000/.well-known/jwks.json`: fetched on first use, cached, fetched again for an unknown `kid`. */
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the auth hub\'s JWKS, e.g. http://auth-hub:3000/.well-known/jwks.json' }),
  /** The `iss` access tokens must carry (the auth hub's TOKEN_ISSUER). */
  AUTH_TOKEN_ISSUER: z.string().trim().min(1).default(DEFAULT_ISSUER),
  /** The `aud` access tokens must carry (the auth hub's TOKEN_AUDIENCE). */
  AUTH_TOKEN_AUDIENCE: z.string().trim().min(1).default(DEFAULT_AUDIENCE),
};

/** The values of {@link accessTokenConfig} in a loaded config. */
export interface AccessTokenConfig {
  AUTH_JWKS_URL: string;
  AUTH_TOKEN_ISSUER: string;
  AUTH_TOKEN_AUDIENCE: string;
}

/** The verifier's options from a service config that includes {@link accessTokenConfig} (for `AuthGuardModule.forRootAsync`'s factory). */
export function verifierOptionsFromConfig(config: AccessTokenConfig): AccessTokenVerifierOptions {
  return { keys: { jwksUrl: config.AUTH_JWKS_URL }, issuer: config.AUTH_TOKEN_ISSUER, audience: config.AUTH_TOKEN_AUDIENCE };
}
