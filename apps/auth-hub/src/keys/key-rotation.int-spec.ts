import { Controller, Get, Module, Req } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthGuardModule, type AuthenticatedRequest, DEFAULT_AUDIENCE, DEFAULT_ISSUER, RequiresAccessToken } from '@zdm/auth-guard';
import { integrationServices, startServiceApp, stopServiceProcess, waitFor, type ServiceProcess } from '@zdm/dev-services';
import { HttpServiceSchemas, MigrationRegistry } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { MigrationsModule } from '@zdm/migrations-nest';
import { ServiceDefaultsModule } from '@zdm/service-defaults';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import mongoose, { type Connection, type mongo } from 'mongoose';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authHubEnv, startAuthHubService, testSigningKeyPem } from '../testing/auth-hub-app.fixture';
import { KeyRotation, KeyRotationRefusedError, type RotationPhase } from './key-rotation';
import { createMongoKeyRotationStore } from './key-rotation.store';

jest.setTimeout(300_000);

const services = integrationServices(['mongo', 'redis']);
const TTL_SECONDS = 30;
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

@Controller('things')
class ThingsController {
  @Get()
  @RequiresAccessToken()
  who(@Req() req: AuthenticatedRequest) {
    return { sub: req.auth.sub };
  }
}

/** A service that verifies the hub's tokens through the shared guard and beats to its own control store, listening on a port. */
async function startVerifier(instanceId: string, db: mongo.Db, jwksUrl: string, refreshIntervalMs: number): Promise<NestExpressApplication> {
  @Module({
    imports: [
      ServiceDefaultsModule.forRoot(),
      MigrationsModule.forRoot({ service: 'verifier', build: 'verifier-v1', registry: MigrationRegistry.create([]), controlStore: () => createMongoControlStore(db), instanceId, heartbeat: { intervalMs: 250 } }),
      AuthGuardModule.forRootAsync({ useFactory: () => ({ keys: { jwksUrl, refreshIntervalMs }, issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE }) }),
    ],
    controllers: [ThingsController],
  })
  class VerifierModule {}
  const app = await startServiceApp(VerifierModule, { name: 'verifier' }, {});
  await app.listen(0, '127.0.0.1');
  return app;
}

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { accessToken: string; refreshToken: string } };
};

describe('signing-key rotation under load: auth hubs and verifying instances as real servers', () => {
  const keysDir = mkdtempSync(path.join(tmpdir(), 'auth-rotation-'));
  let hubs: ServiceProcess[] = [];
  let verifiers: NestExpressApplication[] = [];
  let verifierConnection: Connection;
  let hubConnection: Connection;
  let rotation: KeyRotation;

  beforeAll(async () => {
    writeFileSync(path.join(keysDir, 'k1.pem'), testSigningKeyPem(), { mode: 0o600 });
    writeFileSync(path.join(keysDir, 'k2.pem'), testSigningKeyPem(), { mode: 0o600 });
    const { SIGNING_KEY: _generated, ...base } = authHubEnv(services, {
      SIGNING_KEYS_DIR: keysDir,
      SIGNING_KEY_ID: 'k1',
      ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS),
      HEARTBEAT_INTERVAL_MS: '250',
      KEY_ROTATION_POLL_MS: '250',
      LOGIN_ATTEMPTS_PER_IP: '1000000',
      LOGIN_ATTEMPTS_PER_ACCOUNT: '100000',
      LOG_LEVEL: 'warn',
    });
    hubs = await Promise.all(['hub-a', 'hub-b'].map((id) => startAuthHubService({ ...base, INSTANCE_ID: id })));
    verifierConnection = await mongoose.createConnection(services.mongo.url, { dbName: `${services.mongoDbName}_verifier` }).asPromise();
    hubConnection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    const db = verifierConnection.db as mongo.Db;
    // verifier-a fetches the key set every 500 ms; verifier-b only every 10 minutes (after its startup fetch).
    verifiers = [await startVerifier('verifier-a', db, `${hubs[0].url}/.well-known/jwks.json`, 500), await startVerifier('verifier-b', db, `${hubs[1].url}/.well-known/jwks.json`, 600_000)];
    const control = createMongoControlStore(hubConnection.db as mongo.Db);
    rotation = new KeyRotation({
      store: createMongoKeyRotationStore(hubConnection.db as mongo.Db),
      heartbeats: control.heartbeats,
      audit: control.audit,
      schemas: new HttpServiceSchemas({ urls: { verifier: await verifiers[0].getUrl() } }),
      verifiers: ['verifier'],
      tokenTtlSeconds: TTL_SECONDS,
    });
  });

  afterAll(async () => {
    for (const app of verifiers) await app.close();
    for (const hub of hubs) await stopServiceProcess(hub);
    await verifierConnection?.close();
    await hubConnection?.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('rejects no valid token while it walks expand, switch, contract and complete; tokens signed with the old key verify until contract; early advances are refused', async () => {
    const who = { actor: 'test', reason: 'rotation under load' };
    let phase: RotationPhase | 'before' = 'before';
    const figures = { issued: 0, issuedByKid: {} as Record<string, number>, verified: 0, rejectedValid: 0, otherFailures: [] as string[], oldKeyVerified: { expand: 0, switch: 0 }, refusals: [] as string[] };
    let lastOldToken: { token: string; exp: number } | null = null;
    let stop = false;

    const verifyAt = async (token: string, i: number): Promise<number> => {
      const url = `${await verifiers[i % verifiers.length].getUrl()}/things`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await res.body?.cancel();
      return res.status;
    };
    const count = (status: number, what: string) => {
      if (status === 200) figures.verified++;
      else if (status === 401) figures.rejectedValid++;
      else figures.otherFailures.push(`${what}: ${status}`);
    };

    // Four clients log in once, then refresh in a loop (a new access token each time) at alternating hubs,
    // and have every token checked at alternating verifiers, plus the newest token signed with the old key.
    const client = async (n: number) => {
      const email = `rotation-${n}@example.com`;
      const password = 'correct horse battery';
      expect((await post(`${hubs[n % 2].url}/users`, { email, password })).status).toBe(201);
      let pair = (await post(`${hubs[n % 2].url}/sessions`, { email, password })).body;
      for (let i = 0; !stop; i++) {
        const res = await post(`${hubs[(n + i) % 2].url}/sessions/refresh`, { refreshToken: pair.refreshToken });
        if (res.status !== 200) {
          figures.otherFailures.push(`refresh: ${res.status}`);
          continue;
        }
        pair = res.body;
        const kid = decodeProtectedHeader(pair.accessToken).kid as string;
        figures.issued++;
        figures.issuedByKid[kid] = (figures.issuedByKid[kid] ?? 0) + 1;
        if (kid === 'k1') lastOldToken = { token: pair.accessToken, exp: decodeJwt(pair.accessToken).exp as number };
        count(await verifyAt(pair.accessToken, n + i), `new token (${kid}) in ${phase}`);
        const old = lastOldToken;
        if (old && (phase === 'expand' || phase === 'switch') && old.exp > Date.now() / 1000 + 2) {
          const status = await verifyAt(old.token, n + i + 1);
          count(status, `old-key token in ${phase}`);
          if (status === 200) figures.oldKeyVerified[phase]++;
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(client));
    const refused = async (gate: string) => {
      const err = await rotation.advance(who).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(KeyRotationRefusedError);
      const message = (err as Error).message;
      expect(message).toContain(gate);
      figures.refusals.push(message);
      return message;
    };
    const advanceWhenReady = async (timeoutMs: number) =>
      waitFor('the gates to hold', () => rotation.advance(who).then((s) => s, (e: unknown) => (e instanceof KeyRotationRefusedError ? undefined : Promise.reject(e))), timeoutMs, 500);
    const published = async (hub: ServiceProcess) => ((await (await fetch(`${hub.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

    try {
      await waitFor('tokens signed with k1', () => figures.issuedByKid['k1'] > 20 || undefined, 60_000, 100);
      expect(await published(hubs[0])).toEqual(['k1']);

      // expand: both hubs publish k2 and still sign with k1.
      await rotation.start('k2', who);
      phase = 'expand';
      for (const hub of hubs) await waitFor(`${hub.url} to publish k2`, async () => (await published(hub)).join() === 'k1,k2' || undefined, 15_000, 100);
      await waitFor('verifier-a to report k2', async () => (await rotation.status()).gates.find((g) => g.gate === 'hubs-publish-new-key')?.ok || undefined, 15_000, 200);
      await waitFor('verifier-a to fetch k2', () => verifiers[0].get<AccessTokenVerifier>(ACCESS_TOKEN_VERIFIER).keyIds().includes('k2') || undefined, 15_000, 100);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // its heartbeat
      // verifier-b has not fetched k2: signing with k2 is refused, naming it.
      const notFetched = await refused('verifiers-fetched-new-key:verifier');
      expect(notFetched).toMatch(/not yet: verifier-b \(verifier-v1\) reports auth\.jwks-kids \[k1\]/);
      expect(notFetched).not.toMatch(/verifier-a \(/);
      expect(figures.issuedByKid['k2']).toBeUndefined();
      await verifiers[1].get<AccessTokenVerifier>(ACCESS_TOKEN_VERIFIER).refresh();
      expect((await advanceWhenReady(20_000)).phase).toBe('switch');

      // switch: both hubs sign with k2; tokens signed with k1 still verify; contract is refused until they have expired.
      phase = 'switch';
      const switchedAt = Date.now();
      await waitFor('tokens signed with k2', () => figures.issuedByKid['k2'] > 10 || undefined, 30_000, 100);
      await waitFor('every hub to report signing with k2', async () => (await rotation.status()).gates.find((g) => g.gate === 'hubs-sign-with-new-key')?.ok || undefined, 15_000, 200);
      const early = await refused('old-tokens-expired');
      expect(early).toMatch(/old-tokens-expired: \d+ s left: tokens signed with k1 \(until [^)]+\) may be valid until /);
      expect(early).not.toMatch(/hubs-sign-with-new-key/);
      const contract = await advanceWhenReady((TTL_SECONDS + 30) * 1_000);
      expect(contract.phase).toBe('contract');
      expect(Date.now() - switchedAt).toBeGreaterThanOrEqual(TTL_SECONDS * 1_000);
      phase = 'contract';
      const lastOld = lastOldToken as { token: string; exp: number } | null;
      expect(lastOld && lastOld.exp * 1000 < Date.now()).toBe(true);

      // contract: k1 leaves the JWKS; then complete.
      for (const hub of hubs) await waitFor(`${hub.url} to drop k1`, async () => (await published(hub)).join() === 'k2' || undefined, 15_000, 100);
      expect((await advanceWhenReady(15_000)).phase).toBe('complete');
      phase = 'complete';
      const issuedBefore = figures.issued;
      await waitFor('more tokens after complete', () => figures.issued > issuedBefore + 20 || undefined, 30_000, 100);
    } finally {
      stop = true;
      await load;
    }

    // eslint-disable-next-line no-console
    console.log(`key rotation under load: ${JSON.stringify({ ...figures, refusals: figures.refusals.map((r) => r.split('\n')[1]?.trim()) })}`);
    expect(figures.rejectedValid).toBe(0);
    expect(figures.otherFailures).toEqual([]);
    expect(figures.oldKeyVerified.expand).toBeGreaterThan(0);
    expect(figures.oldKeyVerified.switch).toBeGreaterThan(0);
    expect(figures.verified).toBeGreaterThan(figures.issued); // every token, plus old-key ones
    expect(figures.refusals).toHaveLength(2);
  });

  it("answers the operator's command: status shows the rotation complete, and advance past complete exits 3 naming the gate", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, TOKEN_VERIFIERS: `verifier=${await verifiers[0].getUrl()}`, ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) };
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [path.join(ROOT, 'tools', 'scripts', 'run-ts.mjs'), 'apps/auth-hub/src/keys/rotate-keys.main.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const status = await run('status');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).state).toMatchObject({ id: 'auth.signing-key', phase: 'complete', from: 'k1', to: 'k2' });
    const past = await run('advance', '--reason', 'one more');
    expect({ code: past.code, stderr: past.stderr }).toEqual({ code: 3, stderr: expect.stringContaining('not-terminal: complete is final') });
    const again = await run('start', 'k2', '--reason', 'same key');
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 3, stderr: expect.stringContaining('hubs-agree-on-current-key: live hubs sign with k2 (already k2)') });
    expect((await run('advance')).code).toBe(2); // no --reason
    delete env.TOKEN_VERIFIERS;
    const unnamed = await run('status');
    expect({ code: unnamed.code, stderr: unnamed.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('TOKEN_VERIFIERS is required') });
  });
});
