import { SESSION_KEYSPACE_MIGRATION } from '@zdm/auth-domain';
import { GateRefusedError, Migrator } from '@zdm/migrations-core';
import { integrationServices, materializeRelease, startRelease, stopRelease, stopServiceProcess, type MaterializedRelease, type ReleaseProcess, type ServiceProcess } from '@zdm/dev-services';
import { authHubEnv, startAuthHubService } from '../testing/auth-hub-app.fixture';

jest.setTimeout(300_000);

const services = integrationServices(['mongo', 'redis']);
const who = { actor: 'test', reason: 'blue and green share sessions' };

/**
 * Blue (v1 from git) and green (this tree, auth.session-keyspace at expand) as processes on one
 * MongoDB and one Redis: one refresh-token family rotates across both, a replay on one revokes it
 * for both, and the migration cannot leave expand while blue lives.
 */
describe('auth-hub blue (v1) and green (v2) serving the same sessions', () => {
  let release: MaterializedRelease & { remove(): void };
  let blue: ReleaseProcess;
  let green: ServiceProcess;
  beforeAll(async () => {
    const env = authHubEnv(services, { HEARTBEAT_INTERVAL_MS: '200' });
    release = await materializeRelease('auth-hub', 'v1');
    [blue, green] = await Promise.all([
      startRelease(release, { ...env, INSTANCE_ID: 'auth-hub-blue-1', BUILD: 'auth-hub-v1' }),
      startAuthHubService({ ...env, INSTANCE_ID: 'auth-hub-green-1', BUILD: 'auth-hub-v2' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stopRelease(blue), stopServiceProcess(green)]);
    release?.remove();
  });

  const post = (base: string, p: string, body: unknown) => fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const refresh = async (base: string, refreshToken: string) => {
    const res = await post(base, '/sessions/refresh', { refreshToken });
    return { status: res.status, token: res.status === 200 ? ((await res.json()) as { refreshToken: string }).refreshToken : '' };
  };

  it('rotates one family on blue and green in turn, and a token replayed on either revokes it on both', async () => {
    const credentials = { email: 'both@example.com', password: 'correct horse battery' };
    expect((await post(blue.url, '/users', credentials)).status).toBe(201);
    const login = (await (await post(green.url, '/sessions', credentials)).json()) as { refreshToken: string };
    const first = login.refreshToken;
    const a = await refresh(blue.url, first);
    const b = await refresh(green.url, a.token);
    const c = await refresh(blue.url, b.token);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    // A replay of a token green rotated out, presented to blue: the family is revoked for both.
    expect((await refresh(blue.url, a.token)).status).toBe(401);
    expect((await refresh(green.url, c.token)).status).toBe(401);
    expect((await refresh(blue.url, c.token)).status).toBe(401);

    const other = (await (await post(blue.url, '/sessions', credentials)).json()) as { refreshToken: string };
    const d = await refresh(green.url, other.refreshToken);
    expect(d.status).toBe(200);
    expect((await refresh(green.url, other.refreshToken)).status).toBe(401);
    expect((await refresh(blue.url, d.token)).status).toBe(401);
  });

  it('keeps auth.session-keyspace in expand while blue, which reads only v1 sessions, is live', async () => {
    // The zdm config reads REDIS_PREFIX when it loads, as the CLI starts with the service's environment.
    process.env['REDIS_PREFIX'] = services.redisPrefix;
    const { connect, registry } = await import('../../zdm.config');
    const conn = await connect({ ...process.env, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, REDIS_URL: services.redis.url });
    try {
      const migrator = new Migrator({ registry, backend: conn.backend });
      for (let i = 0; i < 50 && (await migrator.phaseMachine.status(SESSION_KEYSPACE_MIGRATION)).instances.length < 2; i++) await new Promise((r) => setTimeout(r, 200));
      const status = await migrator.status(SESSION_KEYSPACE_MIGRATION);
      const green = status.instances.find((i) => i.instanceId === 'auth-hub-green-1');
      expect(green?.schemas['sessions']).toEqual({ readMin: 1, readMax: 2, writes: 1 });
      expect(await migrator.advance(SESSION_KEYSPACE_MIGRATION, who)).toBe('expand');
      const refused = await migrator.advance(SESSION_KEYSPACE_MIGRATION, who).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(GateRefusedError);
      expect((refused as GateRefusedError).failing.map((g) => g.detail).join('\n')).toMatch(/not yet: auth-hub-blue-1 \(auth-hub-v1\)/);
    } finally {
      await conn.close();
    }
  });
});
