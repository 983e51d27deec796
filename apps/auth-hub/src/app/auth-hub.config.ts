import { DEFAULT_AUDIENCE, DEFAULT_ISSUER } from '@zdm/auth-guard';
import { DEFAULT_SCRYPT_PARAMS, STRONGER_SCRYPT_PARAMS } from '@zdm/auth-domain';
import { mongoServiceConfig } from '@zdm/migrations-nest';
import { envInt } from '@zdm/service-defaults';
import { z } from 'zod';

/**
 * The auth hub's own environment, merged over the service defaults (PORT, LOG_LEVEL, ...): MongoDB
 * (users), Unleash and heartbeats as every migrating service has them, Redis (sessions and login
 * rate limits), the signing key, token lifetimes, scrypt cost and login limits.
 */
export const authHubConfig = mongoServiceConfig('auth-hub').extend({
  /** Redis URL, e.g. `redis://127.0.0.1:6379`: sessions and login rate limits. */
  REDIS_URL: z.string().trim().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL'),
  /** Prepended to every Redis key (several deployments on one server). Default none. */
  REDIS_PREFIX: z.string().trim().regex(/^[\w:.-]{0,64}$/, 'must be up to 64 letters, digits or _ : . -').default(''),
  /** The Ed25519 private key signing access tokens, as PKCS#8 PEM or a JWK (JSON with `d`). Give this, SIGNING_KEY_FILE or SIGNING_KEYS_DIR. */
  SIGNING_KEY: z.string().trim().min(1).optional(),
  /** A file holding the signing key (PEM or JWK), e.g. a mounted secret. */
  SIGNING_KEY_FILE: z.string().trim().min(1).optional(),
  /** A directory of Ed25519 private keys, one `<kid>.pem` or `<kid>.jwk` file each (the key ring of a rotation, e.g. a mounted Secret). */
  SIGNING_KEYS_DIR: z.string().trim().min(1).optional(),
  /**
   * One key: the `kid` tokens and the JWKS carry (default: the key's RFC 7638 thumbprint). A ring of
   * several keys: the kid signed with until a rotation is recorded.
   */
  SIGNING_KEY_ID: z.string().trim().regex(/^[\w.-]{1,64}$/, 'must be 1-64 letters, digits or _ . -').optional(),
  /** How often this instance reads the signing-key rotation's phase from the database, in ms. */
  KEY_ROTATION_POLL_MS: envInt(100, 60_000).default(2_000),
  /** `iss` of access tokens. */
  TOKEN_ISSUER: z.string().trim().min(1).default(DEFAULT_ISSUER),
  /** `aud` of access tokens: what every service checks. */
  TOKEN_AUDIENCE: z.string().trim().min(1).default(DEFAULT_AUDIENCE),
  /** Access-token lifetime, in seconds. */
  ACCESS_TOKEN_TTL_SECONDS: envInt(30, 3_600).default(300),
  /** Refresh-token lifetime, in seconds; each refresh starts it again. */
  REFRESH_TOKEN_TTL_SECONDS: envInt(60, 90 * 86_400).default(14 * 86_400),
  /** log2 of scrypt's cost N for password hashes of users stored at v1 (stored with each hash). */
  SCRYPT_LOG_N: envInt(10, 20).default(DEFAULT_SCRYPT_PARAMS.logN),
  /** log2 of scrypt's cost N for users stored at v2 (`auth.password-hash`: registrations and upgrades at login once its write-new flag is on). */
  SCRYPT_V2_LOG_N: envInt(10, 20).default(STRONGER_SCRYPT_PARAMS.logN),
  /** Login attempts allowed per account (normalized e-mail) per window; a successful login clears the count. */
  LOGIN_ATTEMPTS_PER_ACCOUNT: envInt(1, 100_000).default(10),
  /** Login attempts allowed per client IP per window. */
  LOGIN_ATTEMPTS_PER_IP: envInt(1, 1_000_000).default(100),
  /** The login rate-limit window, in seconds. */
  LOGIN_WINDOW_SECONDS: envInt(1, 86_400).default(300),
});

export type AuthHubConfig = z.output<typeof authHubConfig>;
