import { InMemStorageProvider, Unleash } from 'unleash-client';
import { describeIntegration, type UnleashService } from '../index';

const REFRESH_MS = 500;

async function admin(unleash: UnleashService, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${unleash.url}/api/admin${path}`, {
    method,
    headers: { Authorization: unleash.adminToken, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : undefined;
}

/** Polls until `predicate` holds; returns the elapsed milliseconds. */
async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

describeIntegration('Unleash (smoke)', ['unleash'], (services) => {
  let client: Unleash;

  beforeAll(async () => {
    const ui = (await admin(services.unleash, 'GET', '/ui-config')) as { version?: string };
    console.info(`[smoke] unleash: unleash-server ${ui.version} via ${services.unleash.source} (${services.unleash.description})`);
    client = new Unleash({
      url: services.unleash.apiUrl,
      appName: 'zdm-dev-services-smoke',
      refreshInterval: REFRESH_MS,
      disableMetrics: true,
      customHeaders: { Authorization: services.unleash.clientToken },
      storageProvider: new InMemStorageProvider(),
    });
    await new Promise<void>((resolve, reject) => {
      client.once('synchronized', resolve);
      client.once('error', reject);
    });
  });

  afterAll(() => {
    client?.destroy();
  });

  it('has no default admin user: admin / unleash4all cannot log in, only the random tokens work', async () => {
    // Checked on any Unleash the suites use, also one given in UNLEASH_URL: none should take the default login.
    const login = await fetch(`${services.unleash.url}/auth/simple/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'unleash4all' }),
    });
    expect(login.status).toBe(401);
    const anonymous = await fetch(`${services.unleash.url}/api/admin/projects`);
    expect(anonymous.status).toBe(401);
  });

  it('evaluates a flag enabled through the Admin API, and disabled again', async () => {
    const name = `zdm-smoke-${Date.now().toString(36)}`;
    const env = `/projects/default/features/${name}/environments/development`;
    const call = (method: string, path: string, body?: unknown) => admin(services.unleash, method, path, body);
    await call('POST', '/projects/default/features', { name, type: 'release' });
    await call('POST', `${env}/strategies`, { name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: name } });
    expect(client.isEnabled(name)).toBe(false);

    await call('POST', `${env}/on`);
    const onMs = await waitUntil(() => client.isEnabled(name), 10 * REFRESH_MS);

    await call('POST', `${env}/off`);
    const offMs = await waitUntil(() => !client.isEnabled(name), 10 * REFRESH_MS);
    console.info(`[smoke] unleash: flag on after ${onMs} ms, off after ${offMs} ms (refreshInterval ${REFRESH_MS} ms)`);
  });
});
