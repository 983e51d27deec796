import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ControlStore, MigrationRegistry, createInMemoryControlStore, flagNames } from '@zdm/migrations-core';
import { TcpProxy, integrationServices } from '@zdm/dev-services';
import { randomBytes } from 'node:crypto';
import { fullNameMigration } from '../../testing/customers-migrations.fixture';
import { waitFor } from '@zdm/migrations-core/testing';
import { MigrationsModule } from '../migrations.module';
import { safeFlagDefaults } from './flag-source.contract';
import { UnleashFlagAdmin } from './unleash-admin.client';
import { UnleashFlagSource } from './unleash.flag-source';

jest.setTimeout(60_000);

// Unleash from UNLEASH_URL + UNLEASH_ADMIN_TOKEN + UNLEASH_CLIENT_TOKEN, else a local unleash-server.
const services = integrationServices(['unleash']);

/** Flags of a migration whose id is unique to this run, so runs never see each other's flags. */
const suffix = randomBytes(4).toString('hex');
const migration = { ...fullNameMigration, id: `it${suffix}.full-name` };
const registry = MigrationRegistry.create([migration]);
const F = flagNames(migration.id);
const defaults = safeFlagDefaults([migration]);

describe('Unleash flags against a real unleash-server', () => {
  let admin: UnleashFlagAdmin;
  let proxy: TcpProxy;
  const sources: UnleashFlagSource[] = [];
  const open = () => {
    const source = new UnleashFlagSource({ url: `${proxy.url}/api`, token: services.unleash.clientToken, appName: 'customers', defaults, refreshIntervalMs: 200 });
    sources.push(source);
    return source;
  };

  beforeAll(async () => {
    admin = new UnleashFlagAdmin({ url: services.unleash.url, token: services.unleash.adminToken });
    const { hostname, port } = new URL(services.unleash.url);
    proxy = await new TcpProxy({ host: hostname, port: Number(port) }).open();
  });
  afterAll(async () => {
    for (const s of sources) s.close();
    await proxy.cut();
  });

  it('creates a missing flag and switches it on and off in the environment', async () => {
    const flag = `it${suffix}.admin-check`;
    expect(await admin.get(flag)).toBeNull();
    await admin.set(flag, true);
    expect(await admin.get(flag)).toBe(true);
    await admin.set(flag, false);
    await admin.set(flag, false);
    expect(await admin.get(flag)).toBe(false);
  });

  it('revives an archived flag instead of failing on its name', async () => {
    const flag = `it${suffix}.archived`;
    await admin.set(flag, true);
    const res = await fetch(`${services.unleash.url}/api/admin/projects/default/features/${flag}`, {
      method: 'DELETE',
      headers: { Authorization: services.unleash.adminToken },
    });
    expect(res.status).toBe(202);
    expect(await admin.get(flag)).toBeNull();
    await admin.set(flag, true);
    expect(await admin.get(flag)).toBe(true);
  });

  it('explains a rejected token', async () => {
    const bad = new UnleashFlagAdmin({ url: services.unleash.url, token: 'not-a-token' });
    await expect(bad.set(`it${suffix}.x`, true)).rejects.toThrow(/\(401\).*admin token/);
  });

  it('sees a flag flipped through the Admin API without a restart, and flags it never had as their safe defaults', async () => {
    const source = open();
    expect(await source.ready(10_000)).toBe(true);
    expect(source.snapshot()).toEqual(defaults);

    const flippedAt = Date.now();
    await admin.set(F.writeNew, true);
    await admin.set(F.writeOld, false);
    await waitFor('write-new on and write-old off', () => source.isEnabled(F.writeNew) && !source.isEnabled(F.writeOld), 10_000);
    console.info(`[unleash.int-spec] flag flip seen by the client after ${Date.now() - flippedAt} ms (poll interval 200 ms)`);
  });

  it('keeps the last-known values while Unleash is unreachable, and follows again once it is back', async () => {
    await admin.set(F.readNew, false);
    const source = open();
    await waitFor('the current values', () => source.isEnabled(F.writeNew) && source.status().connected, 10_000);
    const before = source.snapshot();

    await proxy.cut();
    await waitFor('the source to notice Unleash is unreachable', () => !source.status().connected, 20_000);
    await admin.set(F.readNew, true); // flipped while this client cannot see it
    await new Promise((r) => setTimeout(r, 1_000));
    expect(source.snapshot()).toEqual(before);
    expect(source.status().source).toBe('unleash');

    await proxy.open();
    await waitFor('read-new on after Unleash is reachable again', () => source.isEnabled(F.readNew), 30_000);
  });

  describe('MigrationsModule wired to Unleash', () => {
    let store: ControlStore;
    let app: INestApplication;

    beforeAll(async () => {
      await admin.set(F.writeNew, false);
      store = createInMemoryControlStore();
      const moduleRef = await Test.createTestingModule({
        imports: [
          MigrationsModule.forRoot({
            service: 'customers',
            build: 'v2',
            registry,
            controlStore: store,
            unleash: { url: `${proxy.url}/api`, token: services.unleash.clientToken, refreshIntervalMs: 200, startupWaitMs: 10_000 },
            heartbeat: { intervalMs: 200 },
          }),
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
    });
    afterAll(() => app?.close());

    const writes = async () => (await store.heartbeats.live())[0]?.schemas['customers'].writes;

    it('reports an Admin API flip in its heartbeat without a restart', async () => {
      // Unleash serves client features from a cache, so the switch-off of beforeAll may arrive a poll late.
      await waitFor('a heartbeat writing v1', async () => (await writes()) === 1, 10_000);
      await admin.set(F.writeNew, true);
      await waitFor('a heartbeat writing v2', async () => (await writes()) === 2, 10_000);
    });

    it('keeps beating with the last-known flags once the Unleash server is stopped', async () => {
      // A local server is really stopped; an external one (UNLEASH_URL) is cut off through the proxy.
      if (services.unleash.source === 'local') await services.unleash.stop();
      else await proxy.cut();
      const stoppedAt = new Date();
      await waitFor('a heartbeat written after Unleash went away', async () => (await store.heartbeats.live())[0]?.at > stoppedAt, 10_000);
      await new Promise((r) => setTimeout(r, 3_500)); // long enough for failed polls to be reported
      const [hb] = await store.heartbeats.live();
      expect(hb.at.getTime()).toBeGreaterThan(stoppedAt.getTime());
      expect(hb.schemas['customers'].writes).toBe(2);
      expect(hb.flags).toEqual({ [F.writeNew]: true, [F.readNew]: true, [F.writeOld]: false });
    });
  });
});
