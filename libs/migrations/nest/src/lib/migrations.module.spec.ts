import { INestApplication, Injectable, Module } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { ControlStore, InstanceHeartbeat, createInMemoryControlStore } from '@zdm/migrations-core';
import { ServiceDefaultsModule } from '@zdm/service-defaults';
import request from 'supertest';
import { customersRegistry } from '../testing/customers-migrations.fixture';
import { waitFor } from '@zdm/migrations-core/testing';
import { StaticFlagSource } from './flags/static.flag-source';
import { BuildSchemas } from './heartbeat/build-schemas.service';
import { MigrationsModule } from './migrations.module';
import { FLAG_SOURCE, MigrationsModuleOptions } from './migrations.options';
import { MigrationsHealthIndicator } from './readiness/migrations-health.indicator';

const W = 'customers.full-name.write-new';

const foreign = (writes: number): InstanceHeartbeat => ({
  service: 'customers',
  instanceId: 'customers-other',
  build: 'v2-build',
  schemas: { customers: { readMin: 1, readMax: 2, writes } },
  flags: { [W]: writes === 2 },
  at: new Date(),
});

describe('MigrationsModule', () => {
  let store: ControlStore;
  let flags: StaticFlagSource;
  let app: INestApplication | undefined;

  const options = (extra: Partial<MigrationsModuleOptions> = {}): MigrationsModuleOptions => ({
    service: 'customers',
    build: 'v2-build',
    registry: customersRegistry(),
    controlStore: () => store,
    flags,
    instanceId: 'customers-me',
    heartbeat: { intervalMs: 50 },
    ...extra,
  });

  async function boot(imports: NonNullable<Parameters<typeof Module>[0]>['imports']): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({ imports }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  beforeEach(() => {
    store = createInMemoryControlStore();
    flags = StaticFlagSource.withSafeDefaults(customersRegistry().all());
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('boots, beats into the control store and removes its heartbeat on close', async () => {
    const running = await boot([MigrationsModule.forRoot(options())]);
    const [hb] = await store.heartbeats.live();
    expect(hb).toMatchObject({ service: 'customers', instanceId: 'customers-me', build: 'v2-build' });
    expect(hb.schemas['customers']).toEqual({ readMin: 1, readMax: 2, writes: 1 });
    await running.close();
    app = undefined;
    expect(await store.heartbeats.live()).toEqual([]);
  });

  it('reports a flag flip in its heartbeat at once and in the write version it hands out', async () => {
    const running = await boot([MigrationsModule.forRoot(options({ heartbeat: { intervalMs: 60_000 } }))]);
    running.get<StaticFlagSource>(FLAG_SOURCE).set(W, true);
    await waitFor('a heartbeat writing v2', async () => (await store.heartbeats.live())[0]?.schemas['customers'].writes === 2, 10_000);
    expect(running.get(BuildSchemas).writeVersion('customers')).toBe(2);
  });

  it('turns readiness down while another instance writes above what a v1-only build reads, and up when it is gone', async () => {
    const running = await boot([MigrationsModule.forRoot(options({ build: 'v1-build', targets: { customers: { readMin: 1, readMax: 1 } } }))]);
    const indicator = running.get(MigrationsHealthIndicator);
    expect(await indicator.isHealthy()).toMatchObject({ migrations: { status: 'up' } });

    await store.heartbeats.beat(foreign(2), 60_000);
    const down = await indicator.isHealthy();
    expect(down).toMatchObject({
      migrations: {
        status: 'down',
        reason: 'instance customers-other (build v2-build) writes customers v2, but this build reads only v1..v1',
        migrations: { 'customers.full-name': { phase: 'pending', command: 'run' } },
      },
    });
    await expect(running.get(HealthCheckService).check([() => indicator.isHealthy()])).rejects.toThrow(/Service Unavailable/);

    await store.heartbeats.remove('customers-other');
    expect(await indicator.isHealthy()).toMatchObject({ migrations: { status: 'up' } });
  });

  it('reports the phase and command of each migration', async () => {
    const running = await boot([MigrationsModule.forRoot(options())]);
    await store.state.save({ id: 'customers.full-name', phase: 'backfill', revision: 0, checksum: 'x', command: 'pause', updatedAt: new Date() }, 0);
    const { migrations, ready } = await running.get(MigrationsHealthIndicator).evaluate();
    expect(ready).toBe(true);
    expect(migrations).toEqual({
      'customers.full-name': { phase: 'backfill', command: 'pause' },
      'sessions.device': { phase: 'pending', command: 'run' },
    });
  });

  it('is not ready when the control store cannot be read', async () => {
    const running = await boot([MigrationsModule.forRoot(options())]);
    store.heartbeats.live = async () => {
      throw new Error('connection refused');
    };
    expect(await running.get(MigrationsHealthIndicator).evaluate()).toMatchObject({ ready: false, reason: 'control store unreachable: connection refused' });
  });

  it('takes its options from a factory with injected dependencies', async () => {
    @Injectable()
    class Database {
      readonly control = store;
    }
    @Module({ providers: [Database], exports: [Database] })
    class DatabaseModule {}

    await boot([
      MigrationsModule.forRootAsync({
        imports: [DatabaseModule],
        inject: [Database],
        useFactory: (db: Database) => options({ controlStore: () => db.control }),
      }),
    ]);
    expect((await store.heartbeats.live()).map((h) => h.instanceId)).toEqual(['customers-me']);
  });

  it('refuses bad options, naming every problem', async () => {
    const bad = { service: '', build: '', registry: {}, controlStore: undefined, flags, unleash: { url: 'x', token: 'y' } } as unknown as MigrationsModuleOptions;
    await expect(Test.createTestingModule({ imports: [MigrationsModule.forRoot(bad)] }).compile()).rejects.toThrow(
      /service is required[\s\S]*build is required[\s\S]*registry must be a MigrationRegistry[\s\S]*controlStore is required[\s\S]*either flags or unleash/,
    );
  });

  it('tells other services its migrations, their phases and the versions it serves at GET /.well-known/zdm/schema', async () => {
    const running = await boot([MigrationsModule.forRoot(options({ apiVersion: '1.1.0' }))]);
    await store.heartbeats.beat(foreign(2), 60_000);
    const since = new Date('2026-01-02T03:04:05Z');
    await store.state.save({ id: 'customers.full-name', phase: 'switch-reads', revision: 0, checksum: 'x', command: 'run', updatedAt: since }, 0);
    const res = await request(running.getHttpServer()).get('/.well-known/zdm/schema').expect(200);
    expect(res.body).toMatchObject({
      service: 'customers',
      instance: { instanceId: 'customers-me', build: 'v2-build', api: '1.1.0' },
      documents: { customers: { readMin: 1, readMax: 2, writes: 1 } },
    });
    expect(res.body.migrations.map((m: { id: string; phase: string; since: string | null }) => [m.id, m.phase, m.since])).toEqual([
      ['customers.full-name', 'switch-reads', since.toISOString()],
      ['sessions.device', 'pending', null],
    ]);
    expect(res.body.instances.map((i: { instanceId: string }) => i.instanceId).sort()).toEqual(['customers-me', 'customers-other']);
  });

  describe('with ServiceDefaultsModule', () => {
    beforeAll(() => (process.env['LOG_LEVEL'] = 'silent'));
    afterAll(() => delete process.env['LOG_LEVEL']);

    it('adds its check to /health/ready and its metrics to /metrics', async () => {
      const running = await boot([ServiceDefaultsModule.forRoot(), MigrationsModule.forRoot(options({ targets: { customers: { readMin: 1, readMax: 1 } } }))]);
      const server = running.getHttpServer();
      const ready = await request(server).get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.info.migrations).toMatchObject({ status: 'up', writes: { customers: 1 } });

      await store.heartbeats.beat(foreign(2), 60_000);
      const notReady = await request(server).get('/health/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body.error.migrations.message).toMatch(/writes customers v2, but this build reads only v1\.\.v1/);

      const metrics = await request(server).get('/metrics');
      expect(metrics.text).toContain('zdm_migration_phase{migration="customers.full-name"} 0');
    });
  });
});
