import { calculateJwkThumbprint, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP } from '@zdm/auth-guard';

/** Where the signing key comes from: the environment or a file (never the repository). */
export interface SigningKeySource {
  SIGNING_KEY?: string;
  SIGNING_KEY_FILE?: string;
  SIGNING_KEY_ID?: string;
}

/** What an access token says, besides the times. */
export interface AccessTokenSubject {
  userId: string;
  sid: string;
}

/** The key access tokens are signed with, and its public half as the JWKS publishes it. */
export class SigningKey {
  constructor(
    readonly kid: string,
    private readonly privateKey: KeyObject,
    /** The public JWK with `kid`, `alg` and `use`. */
    readonly publicJwk: JWK,
  ) {}

  /** The public key set: this key only (rotation publishes more). */
  jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  /** Signs an access token for `subject`, valid `ttlSeconds` from `now` (epoch seconds). */
  sign(subject: AccessTokenSubject, options: { issuer: string; audience: string; ttlSeconds: number; now?: number }): Promise<string> {
    const now = options.now ?? Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: subject.sid })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid: this.kid })
      .setSubject(subject.userId)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + options.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }
}

/** The key text: PKCS#8 PEM, or a JWK as JSON. */
function parseKey(text: string, from: string): KeyObject {
  try {
    const trimmed = text.trim();
    return trimmed.startsWith('{') ? createPrivateKey({ key: JSON.parse(trimmed) as JWK & { kty: string }, format: 'jwk' }) : createPrivateKey(trimmed);
  } catch (err) {
    // The message names the source, never the key.
    throw new Error(`${from} is not a private key in PKCS#8 PEM or JWK form (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * Loads the Ed25519 signing key from SIGNING_KEY or SIGNING_KEY_FILE (exactly one), and names it
 * SIGNING_KEY_ID or its RFC 7638 thumbprint. Startup fails naming the variable when the key is
 * missing, unreadable, not private or not Ed25519.
 */
export async function loadSigningKey(source: SigningKeySource): Promise<SigningKey> {
  if ((source.SIGNING_KEY === undefined) === (source.SIGNING_KEY_FILE === undefined)) {
    throw new Error('give exactly one of SIGNING_KEY (an Ed25519 private key as PKCS#8 PEM or JWK) and SIGNING_KEY_FILE (a file holding one)');
  }
  const [text, from] = source.SIGNING_KEY !== undefined ? [source.SIGNING_KEY, 'SIGNING_KEY'] : [readKeyFile(source.SIGNING_KEY_FILE as string), 'SIGNING_KEY_FILE'];
  const privateKey = parseKey(text, from);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${from} must be an Ed25519 key (EdDSA), not ${privateKey.asymmetricKeyType ?? 'a secret key'}`);
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = source.SIGNING_KEY_ID ?? (await calculateJwkThumbprint({ kty, crv, x }));
  return new SigningKey(kid, privateKey, { kty, crv, x, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' });
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`SIGNING_KEY_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
