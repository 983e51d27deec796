import type { NestExpressApplication } from '@nestjs/platform-express';
import { HOSTILE_KEYS, integrationServices, randomJson, seededRandom } from '@zdm/dev-services';
import Redis from 'ioredis';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import mongoose, { Connection } from 'mongoose';
import request from 'supertest';
import { loadSigningKey } from './keys/signing-key';
import { expectedLoginStatus, expectedRefreshStatus, expectedRegisterStatus, withinBodyLimit } from './testing/auth-body.oracle';
import { authHubEnv, startAuthHubApp, testSigningKeyPem } from './testing/auth-hub-app.fixture';

jest.setTimeout(120_000);

const services = integrationServices(['mongo', 'redis']);
const BODY_LIMIT = 4096;
const PER_ACCOUNT = 5;
const PASSWORD = 'correct horse battery';

describe('auth hub API against FerretDB and redis-server', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let db: Connection;
  let redis: Redis;
  const fields = (res: request.Response) => (res.body.details as { field: string }[]).map((d) => d.field);
  const register = (email: string, password = PASSWORD) => http.post('/users').send({ email, password });
  const login = (email: string, password = PASSWORD) => http.post('/sessions').send({ email, password });
  const refresh = (refreshToken: string) => http.post('/sessions/refresh').send({ refreshToken });

  beforeAll(async () => {
    app = await startAuthHubApp(
      authHubEnv(services, {
        LOGIN_ATTEMPTS_PER_ACCOUNT: String(PER_ACCOUNT),
        LOGIN_ATTEMPTS_PER_IP: '100000',
        HTTP_BODY_LIMIT: String(BODY_LIMIT),
      }),
    );
    http = request(app.getHttpServer());
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    redis = new Redis(services.redis.url);
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await redis?.quit();
  });

  describe('registration', () => {
    it('registers a user under the normalized address, stores v1 with a scrypt hash and never returns or stores the password', async () => {
      const res = await register('  Ada.Lovelace@Example.com ').expect(201);
      expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), email: 'ada.lovelace@example.com', createdAt: expect.any(String) });
      const raw = await db.collection('users').findOne({ _id: new mongoose.Types.ObjectId(res.body.id as string) });
      expect(raw).toMatchObject({ _v: 1, email: 'ada.lovelace@example.com', passwordHash: expect.stringMatching(/^\$scrypt\$ln=10,r=8,p=1\$/) });
      expect(JSON.stringify(raw)).not.toContain(PASSWORD);
    });

    it('answers 409 for an address that exists in another case', async () => {
      await register('grace@example.com').expect(201);
      const dup = await register('GRACE@example.com ').expect(409);
      expect(dup.body.message).toBe('a user with this email exists already');
      expect(await db.collection('users').countDocuments({ email: 'grace@example.com' })).toBe(1);
    });

    it('answers 400 naming each field that breaks the rules', async () => {
      expect(fields(await register('not-an-address', 'short').expect(400))).toEqual(['email', 'password']);
      const weak = await register('weak@example.com', 'weak@example.com').expect(400);
      expect(weak.body.details).toEqual([{ field: 'password', errors: ['password must not be the e-mail address'] }]);
      expect(fields(await http.post('/users').send({ email: 'x@example.com', password: PASSWORD, role: 'admin' }).expect(400))).toContain('role');
      await http.post('/users').send({ email: { $gt: '' }, password: PASSWORD }).expect(400);
      await http.post('/users').send([]).expect(400);
      await http.post('/users').set('content-type', 'application/json').send('{"email":').expect(400);
      await http.post('/users').send({ email: 'big@example.com', password: 'x'.repeat(BODY_LIMIT) }).expect(413);
      expect(await db.collection('users').countDocuments({ email: { $in: ['x@example.com', 'big@example.com', 'weak@example.com'] } })).toBe(0);
    });
  });

  describe('login', () => {
    let userId: string;
    beforeAll(async () => {
      userId = (await register('login@example.com').expect(201)).body.id;
    });

    it('returns an EdDSA access token with kid, typ at+jwt, sub and sid that verifies against the published JWKS, and a refresh token', async () => {
      const res = await login('Login@Example.com').expect(201);
      expect(res.body).toEqual({ tokenType: 'Bearer', accessToken: expect.any(String), expiresIn: 300, refreshToken: expect.stringMatching(/^[\w-]{22}\.[\w-]{43}$/), refreshExpiresIn: 14 * 86_400 });
      const jwks = (await http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;
      const header = decodeProtectedHeader(res.body.accessToken as string);
      expect(header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: jwks.keys[0].kid });
      const { payload } = await jwtVerify(res.body.accessToken as string, createLocalJWKSet(jwks), { issuer: 'zdm-auth-hub', audience: 'zdm' });
      expect(payload).toMatchObject({ sub: userId, sid: res.body.refreshToken.split('.')[0] });
      expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    });

    it('stores the session as session:<sid> (a JSON string with the refresh token only as its SHA-256) expiring with the refresh token', async () => {
      const { refreshToken } = (await login('login@example.com').expect(201)).body;
      const key = `${services.redisPrefix}session:${refreshToken.split('.')[0]}`;
      const stored = (await redis.get(key)) ?? '';
      expect(JSON.parse(stored)).toMatchObject({ userId, generation: 0, usedHashes: [] });
      expect(stored).not.toContain(refreshToken.split('.')[1]);
      expect(await redis.ttl(key)).toBeGreaterThan(14 * 86_400 - 10);
    });

    it('gives an unknown address and a wrong password the same answer', async () => {
      const unknown = await login('nobody@example.com').expect(401);
      const wrong = await login('login@example.com', 'wrong password!').expect(401);
      const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      expect(strip(unknown.body)).toEqual(strip(wrong.body));
      expect(unknown.body.message).toBe('email or password is wrong');
    });

    it(`answers 429 with Retry-After after ${PER_ACCOUNT} attempts on one account, known or not, and a success clears the count`, async () => {
      await register('limited@example.com').expect(201);
      for (let i = 0; i < PER_ACCOUNT - 1; i++) await login('limited@example.com', 'wrong password!').expect(401);
      await login('limited@example.com').expect(201); // the 5th attempt succeeds and clears the count
      for (let i = 0; i < PER_ACCOUNT; i++) await login('limited@example.com', 'wrong password!').expect(401);
      const limited = await login('limited@example.com').expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.body.message).toMatch(/too many login attempts; try again in \d+ s/);
      for (let i = 0; i < PER_ACCOUNT; i++) await login('ghost@example.com').expect(401);
      await login('ghost@example.com').expect(429);
      await login('login@example.com').expect(201); // other accounts are not affected
    });

    it('answers 429 with Retry-After once one client IP has made its attempts, whatever the accounts', async () => {
      const strict = await startAuthHubApp(authHubEnv(services, { REDIS_PREFIX: `${services.redisPrefix}ip-limit:`, LOGIN_ATTEMPTS_PER_IP: '3' }));
      try {
        const client = request(strict.getHttpServer());
        for (const email of ['a@example.com', 'b@example.com', 'login@example.com']) await client.post('/sessions').send({ email, password: 'wrong password!' }).expect(401);
        const limited = await client.post('/sessions').send({ email: 'login@example.com', password: PASSWORD }).expect(429);
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await strict.close();
      }
    });
  });

  describe('refresh, logout', () => {
    beforeAll(async () => {
      await register('refresh@example.com').expect(201);
    });

    it('rotates: the new refresh token works once, and the old one is refused', async () => {
      const first = (await login('refresh@example.com').expect(201)).body;
      const second = (await refresh(first.refreshToken).expect(200)).body;
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.refreshToken.split('.')[0]).toBe(first.refreshToken.split('.')[0]);
      const third = (await refresh(second.refreshToken).expect(200)).body;
      expect(third.accessToken).not.toBe(second.accessToken);
    });

    it('revokes the whole family when an already used refresh token comes back', async () => {
      const first = (await login('refresh@example.com').expect(201)).body;
      const second = (await refresh(first.refreshToken).expect(200)).body;
      const reuse = await refresh(first.refreshToken).expect(401);
      expect(reuse.body.message).toBe('the refresh token was already used; the session is revoked, log in again');
      await refresh(second.refreshToken).expect(401);
      expect(await redis.exists(`${services.redisPrefix}session:${first.refreshToken.split('.')[0]}`)).toBe(0);
    });

    it('of two refreshes racing with one token, one rotates and the reuse revokes the family', async () => {
      const first = (await login('refresh@example.com').expect(201)).body;
      const statuses = (await Promise.all([refresh(first.refreshToken), refresh(first.refreshToken)])).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 401]);
      expect(await redis.exists(`${services.redisPrefix}session:${first.refreshToken.split('.')[0]}`)).toBe(0);
    });

    it('refuses a token that was never issued without touching the session it names', async () => {
      const first = (await login('refresh@example.com').expect(201)).body;
      const forged = `${first.refreshToken.split('.')[0]}.${'A'.repeat(43)}`;
      await refresh(forged).expect(401);
      await refresh(first.refreshToken).expect(200);
    });

    it('logs out the current session with its access token; the refresh token then stops working', async () => {
      const pair = (await login('refresh@example.com').expect(201)).body;
      await http.delete('/sessions/current').set('authorization', `Bearer ${pair.accessToken}`).expect(204);
      await refresh(pair.refreshToken).expect(401);
      // Idempotent; and the scheme is case-insensitive (RFC 7235).
      await http.delete('/sessions/current').set('authorization', `bearer ${pair.accessToken}`).expect(204);
    });

    it('logs out everywhere: every session of the user ends, other users keep theirs', async () => {
      await register('everywhere@example.com').expect(201);
      const pairs = [];
      for (let i = 0; i < 3; i++) pairs.push((await login('everywhere@example.com').expect(201)).body);
      const other = (await login('refresh@example.com').expect(201)).body;
      const res = await http.delete('/sessions').set('authorization', `Bearer ${pairs[0].accessToken}`).expect(200);
      expect(res.body).toEqual({ revoked: 3 });
      for (const pair of pairs) await refresh(pair.refreshToken).expect(401);
      await refresh(other.refreshToken).expect(200);
    });

    it('answers 401 with WWW-Authenticate for a missing, malformed, forged or foreign token', async () => {
      const none = await http.delete('/sessions/current').expect(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const malformed = await http.delete('/sessions/current').set('authorization', 'Basic abc').expect(401);
      expect(malformed.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      const { accessToken } = (await login('refresh@example.com').expect(201)).body;
      const [h, p, s] = (accessToken as string).split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'someone-else' })).toString('base64url')}.${s}`;
      expect((await http.delete('/sessions').set('authorization', `Bearer ${tampered}`).expect(401)).body.message).toBe('the token signature is not valid');
      const otherHub = await loadSigningKey({ SIGNING_KEY: testSigningKeyPem() });
      const foreign = await otherHub.sign({ userId: 'u', sid: 's' }, { issuer: 'zdm-auth-hub', audience: 'zdm', ttlSeconds: 60 });
      expect((await http.delete('/sessions').set('authorization', `Bearer ${foreign}`).expect(401)).body.message).toBe('the token is signed with a key the auth hub does not publish');
    });
  });

  describe('keys and documents', () => {
    it('publishes the public signing key only (no private part), with kid, alg and use, cacheable', async () => {
      const res = await http.get('/.well-known/jwks.json').expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect(res.body.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.stringMatching(/^[\w-]{43}$/), alg: 'EdDSA', use: 'sig' }]);
    });

    it('states the bearer scheme in OpenAPI and requires it on the logout routes only', async () => {
      const doc = (await http.get('/docs-json').expect(200)).body;
      expect(doc.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }) });
      expect(doc.paths['/sessions/current'].delete.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/sessions'].delete.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/sessions'].post.security).toBeUndefined();
      expect(Object.keys(doc.paths['/sessions'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '429', '503']));
    });
  });

  describe('random Authorization headers (seeded fuzz)', () => {
    it('answers every header on both logout routes with 401 and WWW-Authenticate, never 5xx, and ends no session', async () => {
      const random = seededRandom(151);
      const { accessToken, refreshToken } = (await login('login@example.com').expect(201)).body;
      const [h, p] = (accessToken as string).split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
      const hs256 = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid })).toString('base64url')}.${p}.c2ln`;
      const printable = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
      const candidates = () => [`Bearer ${printable(40)}`, printable(30), 'Bearer a.b.c', `Bearer ${none}`, `Bearer ${hs256}`, `Bearer ${accessToken}x`, `Bearer ${accessToken}.x`, `Basic ${accessToken}`, `${accessToken}`, 'Bearer'];
      const statuses: Record<number, number> = {};
      for (let i = 0; i < 60; i++) {
        const list = candidates();
        const header = list[Math.floor(random() * list.length)];
        const res = await http.delete(random() < 0.5 ? '/sessions/current' : '/sessions').set('authorization', header);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status !== 401 || !res.headers['www-authenticate']) throw new Error(`${JSON.stringify(header)}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      expect(statuses).toEqual({ 401: 60 });
      await refresh(refreshToken).expect(200);
    });
  });

  describe('random JSON bodies (seeded fuzz)', () => {
    const SEED = Number(process.env.ZDM_FUZZ_SEED ?? 20261504);
    const CASES = 150;
    const EMAILS = ['fuzz@example.com', ' Fuzz@Example.com', 'a@b.io', 'no-at-sign', 'x@localhost', 'ü@example.com', `${'l'.repeat(65)}@example.com`, 'o.k@mail.example.org'];
    const PASSWORDS = ['correct horse battery', 'short', '          ', 'x'.repeat(129), 'fuzz@example.com', '🙂'.repeat(10), 'abcdefghij\u0007', ''];
    const KEYS = ['email', 'password', 'refreshToken'];

    it(`never answers 5xx on POST /users, /sessions and /sessions/refresh, and answers exactly what the rules say (${CASES} cases each, seed ${SEED})`, async () => {
      const random = seededRandom(SEED);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
      const body = (): unknown => {
        if (random() < 0.3) return randomJson(random, { keys: KEYS });
        const out: Record<string, unknown> = { email: pick(EMAILS), password: pick(PASSWORDS) };
        const roll = random();
        if (roll < 0.2) out[pick(['email', 'password'])] = randomJson(random, { maxDepth: 1 });
        else if (roll < 0.3) Object.defineProperty(out, pick([...HOSTILE_KEYS, 'extra']), { value: 1, enumerable: true });
        else if (roll < 0.4) delete out[pick(['email', 'password'])];
        return out;
      };
      // Every user the suites above registered has PASSWORD.
      const accounts = new Map((await db.collection('users').find({}, { projection: { email: 1 } }).toArray()).map((u) => [String(u['email']), PASSWORD]));
      const attempts = new Map<string, number>();
      const statuses: Record<string, number> = {};
      const mismatches: string[] = [];
      for (let i = 0; i < CASES; i++) {
        for (const [path, expected] of [
          ['/users', withinBodyLimit(BODY_LIMIT, (b) => expectedRegisterStatus(b, accounts))],
          ['/sessions', withinBodyLimit(BODY_LIMIT, (b) => expectedLoginStatus(b, accounts, attempts, PER_ACCOUNT))],
          ['/sessions/refresh', withinBodyLimit(BODY_LIMIT, expectedRefreshStatus)],
        ] as const) {
          const sent = path === '/sessions/refresh' && random() < 0.5 ? { refreshToken: pick([`${'a'.repeat(22)}.${'b'.repeat(43)}`, 'x'.repeat(129), 42, '']) } : body();
          const want = expected(sent);
          const res = await http.post(path).set('content-type', 'application/json').send(JSON.stringify(sent));
          statuses[`${path} ${res.status}`] = (statuses[`${path} ${res.status}`] ?? 0) + 1;
          if (res.status !== want) mismatches.push(`${path} ${JSON.stringify(sent)}: ${res.status}, expected ${want} (${JSON.stringify(res.body)})`);
        }
      }
      console.info(`[auth-hub fuzz] seed ${SEED}: ${CASES} bodies per endpoint, statuses ${JSON.stringify(statuses)}`);
      expect(Object.keys(statuses).filter((k) => / 5\d\d$/.test(k))).toEqual([]);
      expect(mismatches).toEqual([]);
    });
  });
});
