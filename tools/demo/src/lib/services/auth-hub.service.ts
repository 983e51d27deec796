import { AUTH_SERVICE, USERS_COLLECTION } from '@zdm/auth-domain';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DemoService } from './demo.service';

/** The access-token lifetime in the demo: the shortest the auth hub allows, so that the load refreshes many times in a run. */
export const DEMO_ACCESS_TOKEN_TTL_SECONDS = 30;

/**
 * The Ed25519 signing key of the run's auth hub, generated into the run's temp directory on first
 * use (mode 0600) and shared by every instance, blue and green: a token one signs, all verify.
 */
export function demoSigningKey(workDir: string): string {
  const file = path.join(workDir, 'auth-hub-signing-key.pem');
  if (!existsSync(file)) {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  }
  return file;
}

/**
 * The auth hub in the demo: deployed blue (v1 from git) then green and switched like every service,
 * served by the load balancer under /auth. It has no migration to walk here and no documents of its
 * own to seed: its users are the ones the load registers, and its traffic is the load's logins and
 * refreshes (see load.sessions.ts), recorded as `auth-hub.register`, `.login` and `.refresh`.
 */
export const authHubService: DemoService = {
  name: AUTH_SERVICE,
  collection: USERS_COLLECTION,
  migrations: [],
  async seed() {
    return { service: AUTH_SERVICE, seeds: [] };
  },
  mix: {},
  // No acknowledged writes of the load to read back: the users exist as long as their logins work.
  check: () => null,
  inconsistency: 'user(s) read back inconsistently',
  env: ({ redisUrl, workDir }) => ({
    REDIS_URL: redisUrl,
    SIGNING_KEY_FILE: demoSigningKey(workDir),
    ACCESS_TOKEN_TTL_SECONDS: String(DEMO_ACCESS_TOKEN_TTL_SECONDS),
  }),
  issuesTokens: { path: '/auth' },
};
