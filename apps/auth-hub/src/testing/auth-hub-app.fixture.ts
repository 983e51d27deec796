import type { NestExpressApplication } from '@nestjs/platform-express';
import { startServiceApp, startServiceProcess, type InstanceEnv, type ServiceProcess } from '@zdm/dev-services';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { AppModule } from '../app/app.module';
import { authHubServiceOptions } from '../app/service-options';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** A fresh Ed25519 private key as PKCS#8 PEM: tests make their keys at runtime; none is in the repository. */
export function testSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The backing services a suite runs the hub on (what `integrationServices(['mongo', 'redis'])` gives). */
export interface HubStores {
  mongo: { url: string };
  redis: { url: string };
  mongoDbName: string;
  redisPrefix: string;
}

/**
 * The hub's environment on the suite's own database and key prefix, with a fresh signing key and
 * cheap scrypt (2^10 for users at v1 and at v2) unless `overrides` say otherwise.
 */
export function authHubEnv(stores: HubStores, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    MONGO_URL: stores.mongo.url,
    MONGO_DB: stores.mongoDbName,
    REDIS_URL: stores.redis.url,
    REDIS_PREFIX: stores.redisPrefix,
    SIGNING_KEY: testSigningKeyPem(),
    SCRYPT_LOG_N: '10',
    SCRYPT_V2_LOG_N: '10',
    ...overrides,
  };
}

/** Starts the auth hub in this process, as `main.ts` configures it but not listening (see `startServiceApp`). */
export function startAuthHubApp(env: InstanceEnv): Promise<NestExpressApplication> {
  return startServiceApp(AppModule, authHubServiceOptions, env);
}

/** The auth hub of this tree as its own process on a free port (as other services reach it). */
export function startAuthHubService(env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess({
    name: 'auth-hub',
    command: path.join(ROOT, 'node_modules', '.bin', 'node'),
    args: ['-r', '@swc-node/register', 'apps/auth-hub/src/main.ts'],
    cwd: ROOT,
    env: { SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json'), ...env },
  });
}
