import { exportJWK, SignJWT } from 'jose';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP } from './access-token';
import { AccessTokenVerifier, InvalidAccessTokenError } from './access-token.verifier';

const keyPair = () => generateKeyPairSync('ed25519');
const k1 = keyPair();
const k2 = keyPair();

const token = (privateKey: KeyObject, kid: string) =>
  new SignJWT({ sid: 's1' })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid })
    .setSubject('u1')
    .setIssuer('iss')
    .setAudience('aud')
    .setIssuedAt()
    .setExpirationTime('1m')
    .setJti('j1')
    .sign(privateKey);

describe('the verifier with a remote key set (a JWKS served over HTTP on 127.0.0.1)', () => {
  let server: Server;
  let published: { kid: string; key: KeyObject }[] = [];
  let fetches = 0;
  let url = '';

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      void Promise.all(published.map(async ({ kid, key }) => ({ ...(await exportJWK(key)), kid, alg: ACCESS_TOKEN_ALG, use: 'sig' }))).then((keys) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    published = [{ kid: 'k1', key: k1.publicKey }];
    fetches = 0;
  });

  const verifier = (cooldownMs: number) => new AccessTokenVerifier({ keys: { jwksUrl: url, cooldownMs }, issuer: 'iss', audience: 'aud' });

  it('fetches the key set again for a kid it does not hold, and tells listeners the key ids changed', async () => {
    const v = verifier(0);
    const changes: string[][] = [];
    v.onKeyIdsChange(() => changes.push(v.keyIds()));
    await v.verify(await token(k1.privateKey, 'k1'));
    published = [{ kid: 'k1', key: k1.publicKey }, { kid: 'k2', key: k2.publicKey }];
    await expect(v.verify(await token(k2.privateKey, 'k2'))).resolves.toMatchObject({ sub: 'u1' });
    expect(fetches).toBe(2);
    expect(changes).toEqual([['k1'], ['k1', 'k2']]);
  });

  it('fetches again for an unknown kid at most once per cooldown, so forged kids cannot make it fetch on every request', async () => {
    const v = verifier(30_000);
    await v.verify(await token(k1.privateKey, 'k1'));
    published = [{ kid: 'k1', key: k1.publicKey }, { kid: 'k2', key: k2.publicKey }];
    const forged = await token(keyPair().privateKey, 'forged');
    for (let i = 0; i < 5; i++) await expect(v.verify(forged)).rejects.toBeInstanceOf(InvalidAccessTokenError);
    // Within the cooldown even a key the hub now publishes is unknown: the background refresh (or the gates of a rotation) must bring it first.
    await expect(v.verify(await token(k2.privateKey, 'k2'))).rejects.toThrow('the token is signed with a key the auth hub does not publish');
    expect(fetches).toBe(1);
    await v.refresh();
    await expect(v.verify(await token(k2.privateKey, 'k2'))).resolves.toMatchObject({ sub: 'u1' });
    expect(fetches).toBe(2);
  });

  it('states its background refresh interval: 60 s by default, none for a local key set', () => {
    expect(verifier(0).refreshIntervalMs()).toBe(60_000);
    expect(new AccessTokenVerifier({ keys: { jwksUrl: url, refreshIntervalMs: 500 }, issuer: 'i', audience: 'a' }).refreshIntervalMs()).toBe(500);
    expect(new AccessTokenVerifier({ keys: { jwks: { keys: [] } }, issuer: 'i', audience: 'a' }).refreshIntervalMs()).toBeNull();
  });
});
