import { integrationServices, stopServiceProcess, type ServiceProcess } from '@zdm/dev-services';
import { authHubEnv, startAuthHubService, testSigningKeyPem } from '../testing/auth-hub-app.fixture';

jest.setTimeout(180_000);

const services = integrationServices(['mongo', 'redis']);

describe('the auth hub process writes no password, token or key to its logs', () => {
  let hub: ServiceProcess;
  const signingKey = testSigningKeyPem();

  beforeAll(async () => {
    hub = await startAuthHubService(authHubEnv(services, { SIGNING_KEY: signingKey, LOG_LEVEL: 'debug', PORT: '0' }));
  });
  afterAll(() => stopServiceProcess(hub));

  it('logs every request of a register, login, refresh, reuse and logout run at debug level without any of their secrets', async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${hub.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const password = 'a-very-secret-passphrase';
    expect((await post('/users', { email: 'logs@example.com', password })).status).toBe(201);
    expect((await post('/users', { email: 'logs2@example.com', password: 'short-pw' })).status).toBe(400);
    expect((await post('/sessions', { email: 'logs@example.com', password: 'wrong-secret-guess' })).status).toBe(401);
    const first = (await (await post('/sessions', { email: 'logs@example.com', password })).json()) as { accessToken: string; refreshToken: string };
    const second = (await (await post('/sessions/refresh', { refreshToken: first.refreshToken })).json()) as { accessToken: string; refreshToken: string };
    expect((await post('/sessions/refresh', { refreshToken: first.refreshToken })).status).toBe(401); // reuse: logged as a warning
    const logout = await fetch(`${hub.url}/sessions/current`, { method: 'DELETE', headers: { authorization: `Bearer ${second.accessToken}` } });
    expect(logout.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the last lines arrive
    const output = hub.output();
    expect(output).toContain('"statusCode":204');
    expect(output).toContain('refresh token was used twice');
    const secrets = {
      password,
      wrongPassword: 'wrong-secret-guess',
      weakPassword: 'short-pw',
      firstRefreshSecret: first.refreshToken.split('.')[1],
      secondRefreshSecret: second.refreshToken.split('.')[1],
      firstAccessToken: first.accessToken,
      secondAccessTokenSignature: second.accessToken.split('.')[2],
      signingKey: signingKey.split('\n')[1],
    };
    expect(Object.entries(secrets).filter(([, secret]) => output.includes(secret)).map(([name]) => name)).toEqual([]);
  });
});
