import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP, type AccessClaims } from './access-token';

/** Where the verifier finds the public keys. */
export type VerificationKeys =
  /**
   * The auth hub's JWKS URL (`<hub>/.well-known/jwks.json`): fetched at startup and every
   * `refreshIntervalMs` (default 60 s; a key the hub starts publishing is seen within that), cached,
   * and fetched again for an unknown `kid`, at most once per `cooldownMs` (default 30 s).
   */
  | { jwksUrl: string; cacheMaxAgeMs?: number; cooldownMs?: number; timeoutMs?: number; refreshIntervalMs?: number }
  /** A key set in hand (the auth hub verifies its own tokens with it). */
  | { jwks: JSONWebKeySet };

/** Options of {@link AccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  keys: VerificationKeys;
  /** The `iss` tokens must carry. */
  issuer: string;
  /** The `aud` tokens must carry. */
  audience: string;
  /** Clock skew tolerated on `exp`/`iat`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

/** The token is missing, malformed, expired, badly signed or not an access token: answered 401. */
export class InvalidAccessTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidAccessTokenError';
  }
}

/** The key set could not be fetched, so no token can be checked now: answered 503 naming the auth hub. */
export class KeySetUnavailableError extends Error {
  constructor(readonly url: string, reason: string) {
    super(`the auth hub's key set at ${url} cannot be fetched: ${reason}`);
    this.name = 'KeySetUnavailableError';
  }
}

const asString = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Verifies access tokens with `jose`: EdDSA only, `typ` at+jwt, the configured issuer and audience,
 * `exp` required, and a `sub` and `sid`. The key comes from the JWKS by the token's `kid`.
 */
export class AccessTokenVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly remote?: ReturnType<typeof createRemoteJWKSet>;
  private readonly local?: JSONWebKeySet;
  private readonly keyListeners = new Set<() => void>();
  private lastKeyIds = '';

  constructor(private readonly options: AccessTokenVerifierOptions) {
    const keys = options.keys;
    if ('jwksUrl' in keys) {
      this.remote = createRemoteJWKSet(new URL(keys.jwksUrl), {
        cacheMaxAge: keys.cacheMaxAgeMs ?? 600_000,
        cooldownDuration: keys.cooldownMs ?? 30_000,
        timeoutDuration: keys.timeoutMs ?? 2_000,
      });
      this.getKey = this.remote;
    } else {
      this.local = keys.jwks;
      this.getKey = createLocalJWKSet(keys.jwks);
    }
  }

  /** The claims of a valid access token; {@link InvalidAccessTokenError} or {@link KeySetUnavailableError} otherwise. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        algorithms: [ACCESS_TOKEN_ALG],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', 'iat', 'sub', 'sid', 'jti'],
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
      });
      this.noticeKeyChange();
      const sub = asString(payload.sub);
      const sid = asString(payload['sid']);
      const jti = asString(payload.jti);
      if (!sub || !sid || !jti) throw new InvalidAccessTokenError('the token must carry sub, sid and jti as strings');
      return { sub, sid, jti, iss: this.options.issuer, aud: this.options.audience, iat: payload.iat as number, exp: payload.exp as number };
    } catch (err) {
      this.noticeKeyChange();
      if (err instanceof InvalidAccessTokenError) throw err;
      if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || isKeySetFetchFailure(err)) {
        throw new KeySetUnavailableError(this.url(), String((err as Error).message));
      }
      if (err instanceof errors.JOSEError) throw new InvalidAccessTokenError(describe(err));
      throw err;
    }
  }

  /** The key ids this verifier holds now (for a remote key set: as last fetched; empty before the first fetch). */
  keyIds(): string[] {
    const set = this.remote ? this.remote.jwks() : this.local;
    return (set?.keys ?? []).map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string');
  }

  /** Fetches the remote key set now (a no-op for a local one); rejects with {@link KeySetUnavailableError}. */
  async refresh(): Promise<void> {
    if (!this.remote) return;
    try {
      await this.remote.reload();
    } catch (err) {
      throw new KeySetUnavailableError(this.url(), (err as Error).message);
    } finally {
      this.noticeKeyChange();
    }
  }

  /** How often the remote key set is fetched in the background, in ms; null for a local key set. */
  refreshIntervalMs(): number | null {
    const keys = this.options.keys;
    return 'jwksUrl' in keys ? (keys.refreshIntervalMs ?? 60_000) : null;
  }

  /** Calls `listener` whenever {@link keyIds} changes (a fetch brought other keys); returns a function that stops it. */
  onKeyIdsChange(listener: () => void): () => void {
    this.keyListeners.add(listener);
    return () => this.keyListeners.delete(listener);
  }

  /** Tells the listeners when the key ids differ from the last ones seen (a fetch may have happened). */
  private noticeKeyChange(): void {
    const now = this.keyIds().join(' ');
    if (now === this.lastKeyIds) return;
    this.lastKeyIds = now;
    for (const listener of [...this.keyListeners]) listener();
  }

  private url(): string {
    const keys = this.options.keys;
    return 'jwksUrl' in keys ? keys.jwksUrl : 'local';
  }
}

/**
 * The key set could not be had: fetch() failing to connect (a TypeError "fetch failed"; compared by
 * name, since it may come from another realm), or the hub answering something other than a JWKS.
 */
function isKeySetFetchFailure(err: unknown): boolean {
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  if (name === 'TypeError' && typeof message === 'string' && /fetch failed/i.test(message)) return true;
  return err instanceof errors.JOSEError && /JSON Web Key Set HTTP response/.test(err.message);
}

/** A short reason for a 401, without echoing the token. */
function describe(err: InstanceType<typeof errors.JOSEError>): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token is signed with a key the auth hub does not publish';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not accepted (${err.reason})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  return 'the token is not a valid access token';
}
