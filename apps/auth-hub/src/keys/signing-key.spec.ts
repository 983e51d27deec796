import { createLocalJWKSet, jwtVerify } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadKeyRing, loadSigningKey, SigningKey } from './signing-key';

const ed25519 = () => generateKeyPairSync('ed25519').privateKey;

describe('the signing key', () => {
  it('loads a PKCS#8 PEM from SIGNING_KEY, names it by its RFC 7638 thumbprint, and signs tokens its JWKS verifies', async () => {
    const key = await loadSigningKey({ SIGNING_KEY: ed25519().export({ type: 'pkcs8', format: 'pem' }).toString() });
    expect(key.kid).toMatch(/^[\w-]{43}$/);
    const token = await key.sign({ userId: 'u1', sid: 's1' }, { issuer: 'iss', audience: 'aud', ttlSeconds: 60 });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(key.jwks()), { issuer: 'iss', audience: 'aud' });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid });
    expect(payload).toMatchObject({ sub: 'u1', sid: 's1', jti: expect.any(String) });
    expect(key.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('loads a JWK from a file given by SIGNING_KEY_FILE, with the kid SIGNING_KEY_ID names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-key-'));
    try {
      const file = path.join(dir, 'key.jwk');
      writeFileSync(file, JSON.stringify(ed25519().export({ format: 'jwk' })), { mode: 0o600 });
      const key = await loadSigningKey({ SIGNING_KEY_FILE: file, SIGNING_KEY_ID: 'key-2026-12' });
      expect(key.kid).toBe('key-2026-12');
      expect(key.jwks().keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'key-2026-12' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing, doubled, unreadable, public or non-Ed25519 key, naming the variable and never echoing the key', async () => {
    const pem = ed25519().export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(loadSigningKey({})).rejects.toThrow(/give exactly one of SIGNING_KEY/);
    await expect(loadSigningKey({ SIGNING_KEY: pem, SIGNING_KEY_FILE: '/x' })).rejects.toThrow(/give exactly one of SIGNING_KEY/);
    await expect(loadSigningKey({ SIGNING_KEY_FILE: '/nonexistent/key.pem' })).rejects.toThrow('SIGNING_KEY_FILE /nonexistent/key.pem cannot be read: ENOENT');
    const garbage = loadSigningKey({ SIGNING_KEY: 'secret-looking-garbage' });
    await expect(garbage).rejects.toThrow(/^SIGNING_KEY is not a private key in PKCS#8 PEM or JWK form/);
    await expect(garbage).rejects.not.toThrow(/secret-looking-garbage/);
    const publicPem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(loadSigningKey({ SIGNING_KEY: publicPem })).rejects.toThrow(/SIGNING_KEY is not a private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(loadSigningKey({ SIGNING_KEY: ec })).rejects.toThrow('SIGNING_KEY must be an Ed25519 key (EdDSA), not ec');
  });
});

describe('the key ring', () => {
  const withDir = async (files: Record<string, string>, work: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-ring-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text, { mode: 0o600 });
      await work(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const pem = () => ed25519().export({ type: 'pkcs8', format: 'pem' }).toString();

  it('is the one key of SIGNING_KEY or SIGNING_KEY_FILE, as before', async () => {
    const ring = await loadKeyRing({ SIGNING_KEY: pem(), SIGNING_KEY_ID: 'only' });
    expect([[...ring.keys.keys()], ring.defaultKid]).toEqual([['only'], 'only']);
  });

  it('loads every <kid>.pem and <kid>.jwk of SIGNING_KEYS_DIR, skips other files, and signs with SIGNING_KEY_ID until a rotation says otherwise', async () => {
    const jwk = JSON.stringify(ed25519().export({ format: 'jwk' }));
    await withDir({ 'k-2026-06.pem': pem(), 'k-2026-12.jwk': jwk, 'README.txt': 'not a key' }, async (dir) => {
      const ring = await loadKeyRing({ SIGNING_KEYS_DIR: dir, SIGNING_KEY_ID: 'k-2026-06' });
      expect([[...ring.keys.keys()], ring.defaultKid]).toEqual([['k-2026-06', 'k-2026-12'], 'k-2026-06']);
      const key = new SigningKey(ring);
      expect(key.jwks().keys.map((k) => k.kid)).toEqual(['k-2026-06']);
      expect(key.ringJwks().keys.map((k) => k.kid)).toEqual(['k-2026-06', 'k-2026-12']);
      key.follow({ signing: 'k-2026-12', published: ['k-2026-06', 'k-2026-12'] });
      const token = await key.sign({ userId: 'u1', sid: 's1' }, { issuer: 'iss', audience: 'aud', ttlSeconds: 60 });
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(key.jwks()), { issuer: 'iss', audience: 'aud' });
      expect(protectedHeader.kid).toBe('k-2026-12');
      expect(() => key.follow({ signing: 'k-2027', published: ['k-2027'] })).toThrow('the key ring holds no key k-2027, k-2027');
      expect(key.kid).toBe('k-2026-12');
    });
  });

  it('refuses a ring of several keys without SIGNING_KEY_ID, an unknown SIGNING_KEY_ID, an empty directory, a bad file and two sources', async () => {
    await withDir({ 'a.pem': pem(), 'b.pem': pem() }, async (dir) => {
      await expect(loadKeyRing({ SIGNING_KEYS_DIR: dir })).rejects.toThrow('SIGNING_KEYS_DIR holds 2 keys (a, b): SIGNING_KEY_ID must name the one to sign with');
      await expect(loadKeyRing({ SIGNING_KEYS_DIR: dir, SIGNING_KEY_ID: 'c' })).rejects.toThrow('SIGNING_KEY_ID c is not in SIGNING_KEYS_DIR (it holds a, b)');
      await expect(loadKeyRing({ SIGNING_KEYS_DIR: dir, SIGNING_KEY: pem() })).rejects.toThrow(/give exactly one of SIGNING_KEY/);
    });
    await withDir({}, async (dir) => {
      await expect(loadKeyRing({ SIGNING_KEYS_DIR: dir })).rejects.toThrow(`SIGNING_KEYS_DIR ${dir} holds no <kid>.pem or <kid>.jwk file`);
    });
    await withDir({ 'bad.pem': 'secret-looking-garbage' }, async (dir) => {
      const bad = loadKeyRing({ SIGNING_KEYS_DIR: dir });
      await expect(bad).rejects.toThrow(/^SIGNING_KEYS_DIR file bad.pem is not a private key in PKCS#8 PEM or JWK form/);
      await expect(bad).rejects.not.toThrow(/secret-looking-garbage/);
    });
    await expect(loadKeyRing({ SIGNING_KEYS_DIR: '/nonexistent/keys' })).rejects.toThrow('SIGNING_KEYS_DIR /nonexistent/keys cannot be read: ENOENT');
  });
});
