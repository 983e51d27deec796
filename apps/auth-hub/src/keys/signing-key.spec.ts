import { createLocalJWKSet, jwtVerify } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSigningKey } from './signing-key';

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
