import { calculateJwkThumbprint, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP } from '@zdm/auth-guard';

/** Where the signing keys come from: the environment, a file or a directory of files (never the repository). */
export interface SigningKeySource {
  SIGNING_KEY?: string;
  SIGNING_KEY_FILE?: string;
  /** A directory of key files, one per key, each named `<kid>.pem` or `<kid>.jwk` (a key ring). */
  SIGNING_KEYS_DIR?: string;
  /** The key's kid (one key), or the kid of the ring's key to sign with while no rotation says otherwise (a ring). */
  SIGNING_KEY_ID?: string;
}

/** What an access token says, besides the times. */
export interface AccessTokenSubject {
  userId: string;
  sid: string;
}

/** One Ed25519 key of the ring: it signs access tokens, and the JWKS publishes its public half. */
export class Ed25519Key {
  constructor(
    readonly kid: string,
    private readonly privateKey: KeyObject,
    /** The public JWK with `kid`, `alg` and `use`. */
    readonly publicJwk: JWK,
  ) {}

  /** The public key set of this key alone. */
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
export async function loadSigningKey(source: SigningKeySource): Promise<Ed25519Key> {
  if ((source.SIGNING_KEY === undefined) === (source.SIGNING_KEY_FILE === undefined)) {
    throw new Error('give exactly one of SIGNING_KEY (an Ed25519 private key as PKCS#8 PEM or JWK) and SIGNING_KEY_FILE (a file holding one)');
  }
  const [text, from] = source.SIGNING_KEY !== undefined ? [source.SIGNING_KEY, 'SIGNING_KEY'] : [readKeyFile(source.SIGNING_KEY_FILE as string, 'SIGNING_KEY_FILE'), 'SIGNING_KEY_FILE'];
  return ed25519Key(text, from, source.SIGNING_KEY_ID);
}

/** The key in `text` (named `from` in errors), with `kid` or its RFC 7638 thumbprint. */
async function ed25519Key(text: string, from: string, kid?: string): Promise<Ed25519Key> {
  const privateKey = parseKey(text, from);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${from} must be an Ed25519 key (EdDSA), not ${privateKey.asymmetricKeyType ?? 'a secret key'}`);
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const id = kid ?? (await calculateJwkThumbprint({ kty, crv, x }));
  return new Ed25519Key(id, privateKey, { kty, crv, x, kid: id, alg: ACCESS_TOKEN_ALG, use: 'sig' });
}

function readKeyFile(file: string, from: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${from} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The keys this instance holds, by kid, and the one it signs with while no rotation says otherwise. */
export interface KeyRing {
  keys: ReadonlyMap<string, Ed25519Key>;
  /** The kid signed with when no rotation is recorded. */
  defaultKid: string;
}

const KEY_FILE = /^([\w.-]{1,64})\.(pem|jwk)$/;

/**
 * Loads the key ring: one key from SIGNING_KEY or SIGNING_KEY_FILE (named SIGNING_KEY_ID or its
 * thumbprint), or every `<kid>.pem` / `<kid>.jwk` file of SIGNING_KEYS_DIR (other files, such as
 * the `..data` links of a mounted Kubernetes Secret, are skipped). A ring of several keys needs
 * SIGNING_KEY_ID to name the key signed with until a rotation is recorded. Startup fails naming
 * the variable or the file when a key is missing, unreadable, not private or not Ed25519.
 */
export async function loadKeyRing(source: SigningKeySource): Promise<KeyRing> {
  const given = [source.SIGNING_KEY, source.SIGNING_KEY_FILE, source.SIGNING_KEYS_DIR].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new Error(
      'give exactly one of SIGNING_KEY (an Ed25519 private key as PKCS#8 PEM or JWK), SIGNING_KEY_FILE (a file holding one) and SIGNING_KEYS_DIR (a directory of <kid>.pem or <kid>.jwk files)',
    );
  }
  if (source.SIGNING_KEYS_DIR === undefined) {
    const key = await loadSigningKey(source);
    return { keys: new Map([[key.kid, key]]), defaultKid: key.kid };
  }
  const dir = source.SIGNING_KEYS_DIR;
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new Error(`SIGNING_KEYS_DIR ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const keys = new Map<string, Ed25519Key>();
  for (const name of names) {
    const match = KEY_FILE.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    const from = `SIGNING_KEYS_DIR file ${name}`;
    if (keys.has(match[1])) throw new Error(`${from}: kid ${match[1]} is given twice`);
    keys.set(match[1], await ed25519Key(readKeyFile(file, from), from, match[1]));
  }
  if (keys.size === 0) throw new Error(`SIGNING_KEYS_DIR ${dir} holds no <kid>.pem or <kid>.jwk file`);
  const defaultKid = source.SIGNING_KEY_ID ?? (keys.size === 1 ? [...keys.keys()][0] : undefined);
  if (!defaultKid) throw new Error(`SIGNING_KEYS_DIR holds ${keys.size} keys (${[...keys.keys()].join(', ')}): SIGNING_KEY_ID must name the one to sign with`);
  if (!keys.has(defaultKid)) throw new Error(`SIGNING_KEY_ID ${defaultKid} is not in SIGNING_KEYS_DIR (it holds ${[...keys.keys()].join(', ')})`);
  return { keys, defaultKid };
}

/** Which key signs and which keys the JWKS publishes, at one moment of a rotation. */
export interface KeyUse {
  signing: string;
  published: string[];
}

/**
 * What access tokens are signed with and what the JWKS publishes, following the key rotation
 * (see `key-rotation.ts`); before any rotation, the ring's default key alone.
 */
export class SigningKey {
  private use: KeyUse;

  constructor(readonly ring: KeyRing) {
    this.use = { signing: ring.defaultKid, published: [ring.defaultKid] };
  }

  /** The kid tokens are signed with now. */
  get kid(): string {
    return this.use.signing;
  }

  /** The kids the JWKS publishes now. */
  published(): string[] {
    return [...this.use.published];
  }

  /** Switches to `use`; each kid must be in the ring. */
  follow(use: KeyUse): void {
    const missing = [use.signing, ...use.published].filter((kid) => !this.ring.keys.has(kid));
    if (missing.length) throw new Error(`the key ring holds no key ${missing.join(', ')}`);
    this.use = { signing: use.signing, published: [...use.published] };
  }

  /** The public key set the JWKS endpoint serves now. */
  jwks(): JSONWebKeySet {
    return { keys: this.use.published.map((kid) => (this.ring.keys.get(kid) as Ed25519Key).publicJwk) };
  }

  /** Every public key of the ring: what the hub itself accepts (it checks only its own tokens). */
  ringJwks(): JSONWebKeySet {
    return { keys: [...this.ring.keys.values()].map((key) => key.publicJwk) };
  }

  /** Signs an access token with the key in use now. */
  sign(subject: AccessTokenSubject, options: { issuer: string; audience: string; ttlSeconds: number; now?: number }): Promise<string> {
    return (this.ring.keys.get(this.use.signing) as Ed25519Key).sign(subject, options);
  }
}
