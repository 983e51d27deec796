import { startServiceProcess, type ServiceProcess } from '@zdm/dev-services';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');

/** Where a test's auth hub keeps its users and sessions. */
export interface AuthHubStores {
  mongo: { url: string };
  mongoDbName: string;
  redis: { url: string };
  redisPrefix: string;
}

/** The auth hub of this tree as its own process on a free port, with an Ed25519 key generated now (so another hub's tokens are foreign to it). */
export function startAuthHubProcess(name: string, stores: AuthHubStores, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startServiceProcess({
    name,
    command: path.join(ROOT, 'node_modules', '.bin', 'node'),
    args: ['-r', '@swc-node/register', 'apps/auth-hub/src/main.ts'],
    cwd: ROOT,
    env: {
      SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json'),
      MONGO_URL: stores.mongo.url,
      MONGO_DB: `${stores.mongoDbName}_${name}`.slice(0, 63),
      REDIS_URL: stores.redis.url,
      REDIS_PREFIX: `${stores.redisPrefix}${name}:`,
      SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      SCRYPT_LOG_N: '10',
      LOG_LEVEL: 'warn',
      PORT: '0',
      ...env,
    },
  });
}

/** Registers `email` at the hub, logs in, and returns the access token, as a client does. */
export async function loginAtHub(hubUrl: string, email: string, password = 'correct horse battery'): Promise<string> {
  const post = (route: string, body: unknown) => fetch(`${hubUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const registered = await post('/users', { email, password });
  if (registered.status !== 201) throw new Error(`POST /users answered ${registered.status}: ${await registered.text()}`);
  const login = await post('/sessions', { email, password });
  if (login.status !== 201) throw new Error(`POST /sessions answered ${login.status}: ${await login.text()}`);
  return ((await login.json()) as { accessToken: string }).accessToken;
}
