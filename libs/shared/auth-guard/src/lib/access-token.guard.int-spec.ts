import { Controller, Get, Module, Req } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { integrationServices, startServiceApp, stopServiceProcess, waitFor, type ServiceProcess } from '@zdm/dev-services';
import { InstanceFacts, ServiceDefaultsModule } from '@zdm/service-defaults';
import request from 'supertest';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER } from './access-token';
import { ACCESS_TOKEN_VERIFIER, type AuthenticatedRequest } from './access-token.guard';
import { AccessTokenVerifier } from './access-token.verifier';
import { AuthGuardModule } from './auth-guard.module';
import { loginAtHub, startAuthHubProcess } from './auth-hub.process';
import { JWKS_KIDS_FACT } from './key-set.facts';
import { RequiresAccessToken, withBearerScheme } from './openapi';

jest.setTimeout(180_000);

const services = integrationServices(['mongo', 'redis']);

/** The auth hub of this tree as its own process, with a key generated now. */
const startHub = (name: string): Promise<ServiceProcess> => startAuthHubProcess(name, services);

/** Logs a fresh user in at `hub` and returns the access token. */
const accessToken = (hub: ServiceProcess, email: string): Promise<string> => loginAtHub(hub.url, email);

@Controller('orders')
class ProtectedController {
  @Get()
  @RequiresAccessToken()
  who(@Req() req: AuthenticatedRequest) {
    return { sub: req.auth.sub, sid: req.auth.sid };
  }

  @Get('public')
  open() {
    return { open: true };
  }
}

/** A service that verifies the hub's tokens through the shared guard, fetching the JWKS from `hubUrl`. */
async function startProtectedService(hubUrl: string): Promise<NestExpressApplication> {
  @Module({
    imports: [
      ServiceDefaultsModule.forRoot(),
      AuthGuardModule.forRootAsync({ useFactory: () => ({ keys: { jwksUrl: `${hubUrl}/.well-known/jwks.json`, cooldownMs: 0 }, issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE }) }),
    ],
    controllers: [ProtectedController],
  })
  class ProtectedModule {}
  return startServiceApp(ProtectedModule, { name: 'protected', openApi: withBearerScheme }, {});
}

describe('the access-token guard against a running auth hub', () => {
  let hub: ServiceProcess;
  let otherHub: ServiceProcess;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    [hub, otherHub] = await Promise.all([startHub('hub'), startHub('other')]);
    app = await startProtectedService(hub.url);
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app?.close();
    await stopServiceProcess(hub);
    await stopServiceProcess(otherHub);
  });

  it("fetches the hub's key set at startup, before any token, and reports the key ids it holds as an instance fact", async () => {
    const verifier = app.get<AccessTokenVerifier>(ACCESS_TOKEN_VERIFIER);
    const jwks = (await (await fetch(`${hub.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const kids = jwks.keys.map((k) => k.kid);
    await waitFor('the startup fetch', async () => verifier.keyIds().length > 0 || undefined, 10_000, 50);
    expect(verifier.keyIds()).toEqual(kids);
    expect(app.get(InstanceFacts).snapshot()).toEqual({ [JWKS_KIDS_FACT]: kids });
  });

  it("lets a request with the hub's access token through, with its claims", async () => {
    const token = await accessToken(hub, 'guarded@example.com');
    const res = await http.get('/orders').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ sub: expect.stringMatching(/^[0-9a-f]{24}$/), sid: expect.any(String) });
  });

  it('refuses a missing or tampered token and one signed by another hub, with 401 and WWW-Authenticate; public routes stay open', async () => {
    expect((await http.get('/orders').expect(401)).headers['www-authenticate']).toBe('Bearer');
    const token = await accessToken(hub, 'tampered@example.com');
    const tampered = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await http.get('/orders').set('authorization', `Bearer ${tampered}`).expect(401)).body.message).toBe('the token signature is not valid');
    const foreign = await accessToken(otherHub, 'foreign@example.com');
    const refused = await http.get('/orders').set('authorization', `Bearer ${foreign}`).expect(401);
    expect(refused.body.message).toBe('the token is signed with a key the auth hub does not publish');
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    await http.get('/orders/public').expect(200);
  });

  it('states the bearer scheme in the OpenAPI document, on the guarded route only', async () => {
    const doc = (await http.get('/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.paths['/orders'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/orders'].get.responses['401']).toBeDefined();
    expect(doc.paths['/orders/public'].get.security).toBeUndefined();
  });

  it('keeps verifying with the keys it cached while the hub is down; a service that never fetched them answers 503 naming auth-hub', async () => {
    const token = await accessToken(otherHub, 'cached@example.com');
    const cachedApp = await startProtectedService(otherHub.url);
    const hubUrl = otherHub.url;
    let fresh: NestExpressApplication | undefined;
    try {
      await request(cachedApp.getHttpServer()).get('/orders').set('authorization', `Bearer ${token}`).expect(200);
      await stopServiceProcess(otherHub);
      await request(cachedApp.getHttpServer()).get('/orders').set('authorization', `Bearer ${token}`).expect(200);
      fresh = await startProtectedService(hubUrl); // its startup fetch fails: the hub is gone
      const res = await request(fresh.getHttpServer()).get('/orders').set('authorization', `Bearer ${token}`).expect(503);
      expect({ dependency: res.body.dependency, retryAfter: res.headers['retry-after'] }).toEqual({ dependency: 'auth-hub', retryAfter: '1' });
    } finally {
      await cachedApp.close();
      await fresh?.close();
    }
  });
});
