import type { NestExpressApplication } from '@nestjs/platform-express';
import { loginAtHub, startAuthHubProcess, startTestTokenIssuer, type TestTokenIssuer } from '@zdm/auth-guard/testing';
import { integrationServices, stopServiceProcess, type ServiceProcess } from '@zdm/dev-services';
import { ConfigValidationError } from '@zdm/service-defaults';
import request from 'supertest';
import { startCustomersApp } from '../testing/customers-app.fixture';

jest.setTimeout(180_000);

const services = integrationServices(['mongo', 'redis']);

/**
 * Writes need an access token from the auth hub, reads do not: against the auth hub of this tree
 * running as its own process, as in production (its JWKS fetched over HTTP).
 */
describe('customers with the auth hub: writes need a valid access token, reads are open', () => {
  let hub: ServiceProcess;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let token: string;
  const env = (jwksUrl: string | undefined) => ({ MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, UNLEASH_URL: undefined, AUTH_JWKS_URL: jwksUrl });

  beforeAll(async () => {
    hub = await startAuthHubProcess('customers-hub', services);
    app = await startCustomersApp(env(`${hub.url}/.well-known/jwks.json`));
    http = request(app.getHttpServer());
    token = await loginAtHub(hub.url, 'writer@example.com');
  });
  afterAll(async () => {
    await app?.close();
    if (hub) await stopServiceProcess(hub);
  });

  it("creates, changes and deletes with the hub's token; reads without one", async () => {
    const auth = `Bearer ${token}`;
    const created = await http.post('/customers').set('authorization', auth).send({ firstName: 'Ada', lastName: 'Lovelace' }).expect(201);
    await http.get(`/customers/${created.body.id}`).expect(200);
    await http.get('/customers').expect(200);
    await http.patch(`/customers/${created.body.id}`).set('authorization', auth).send({ lastName: 'King' }).expect(200);
    await http.delete(`/customers/${created.body.id}`).set('authorization', auth).expect(204);
  });

  it('refuses every write without a token with 401, WWW-Authenticate: Bearer and a body that says what is missing, before looking at the body', async () => {
    const id = (await http.post('/customers').set('authorization', `Bearer ${token}`).send({ firstName: 'Grace', lastName: 'Hopper' }).expect(201)).body.id;
    const answers = [
      await http.post('/customers').send({ firstName: 'No', lastName: 'Token' }),
      // An invalid body without a token: 401, not 400 (nothing about the body is said to a stranger).
      await http.post('/customers').send({ nonsense: true }),
      await http.patch(`/customers/${id}`).send({ lastName: 'King' }),
      await http.delete(`/customers/${id}`),
    ];
    for (const res of answers) {
      expect({ status: res.status, challenge: res.headers['www-authenticate'], message: res.body.message }).toEqual({
        status: 401,
        challenge: 'Bearer',
        message: 'an access token is required: Authorization: Bearer <token>',
      });
    }
    expect((await http.get(`/customers/${id}`).expect(200)).body.lastName).toBe('Hopper');
  });

  it('refuses an expired token, a token for another audience and one signed by a key the hub does not publish, each saying why', async () => {
    const stranger: TestTokenIssuer = await startTestTokenIssuer();
    try {
      const refused = async (authorization: string) => {
        const res = await http.post('/customers').set('authorization', authorization).send({ firstName: 'Not', lastName: 'Allowed' }).expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token", error_description="/);
        return res.body.message as string;
      };
      expect(await refused(await stranger.bearer())).toBe('the token is signed with a key the auth hub does not publish');
      expect(await refused(`Bearer ${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`)).toBe('the token signature is not valid');
      expect(await refused('Basic dXNlcjpwYXNz')).toBe('the Authorization header must be Bearer followed by a JWT');
      // The stranger's JWKS verifies its own tokens: expiry and audience are checked after the signature.
      const strict = await startCustomersApp(env(stranger.jwksUrl));
      try {
        const post = (authorization: string) => request(strict.getHttpServer()).post('/customers').set('authorization', authorization).send({ firstName: 'X', lastName: 'Y' });
        expect((await post(await stranger.bearer({ expiresInSeconds: -60 })).expect(401)).body.message).toBe('the token has expired');
        expect((await post(await stranger.bearer({ audience: 'someone-else' })).expect(401)).body.message).toMatch(/^the token's aud claim is not accepted/);
        await post(await stranger.bearer()).expect(201);
      } finally {
        await strict.close();
      }
    } finally {
      await stranger.close();
    }
  });

  it('states the bearer scheme in its OpenAPI document on POST, PATCH and DELETE only', async () => {
    const doc = (await http.get('/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const security = Object.fromEntries(
      Object.entries(doc.paths as Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>).flatMap(([route, ops]) =>
        Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${route}`, { security: op.security ?? null, has401: '401' in op.responses }]),
      ),
    );
    const guarded = { security: [{ bearer: [] }], has401: true };
    const open = { security: null, has401: false };
    expect(security).toMatchObject({
      'POST /customers': guarded,
      'GET /customers': open,
      'GET /customers/{id}': open,
      'PATCH /customers/{id}': guarded,
      'DELETE /customers/{id}': guarded,
    });
  });

  it("answers 503 + Retry-After naming auth-hub, never 500, when the hub's key set cannot be fetched", async () => {
    const cut = await startCustomersApp(env('http://127.0.0.1:9/.well-known/jwks.json'));
    try {
      const res = await request(cut.getHttpServer()).post('/customers').set('authorization', `Bearer ${token}`).send({ firstName: 'Ada', lastName: 'Lovelace' }).expect(503);
      expect({ dependency: res.body.dependency, retryAfter: res.headers['retry-after'] }).toEqual({ dependency: 'auth-hub', retryAfter: '1' });
      await request(cut.getHttpServer()).get('/customers').expect(200);
    } finally {
      await cut.close();
    }
  });

  it('does not start without AUTH_JWKS_URL, or with one that is not an http(s) URL, and names it', async () => {
    for (const bad of [undefined, 'auth-hub:3000/jwks', 'ftp://auth-hub/jwks.json']) {
      const err = await startCustomersApp(env(bad)).then(
        async (started) => {
          await started.close();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigValidationError);
      expect((err as ConfigValidationError).problems.map((p) => p.variable)).toEqual(['AUTH_JWKS_URL']);
    }
  });
});
