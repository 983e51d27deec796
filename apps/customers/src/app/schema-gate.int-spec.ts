import type { NestExpressApplication } from '@nestjs/platform-express';
import { CUSTOMERS_SERVICE, fullNameMigration } from '@zdm/customers-domain';
import { integrationServices } from '@zdm/dev-services';
import {
  GateRefusedError,
  HttpServiceSchemas,
  MigrationRegistry,
  Migrator,
  OrchestrationError,
  Orchestrator,
  SCHEMA_PATH,
  type ServiceSchemaReport,
  flagsForPhase,
} from '@zdm/migrations-core';
import { InMemoryCollection, createInMemoryBackend, fullNameMigration as referenceMigration, waitFor } from '@zdm/migrations-core/testing';
import mongoose, { Connection, mongo } from 'mongoose';
import type { AddressInfo } from 'node:net';
import { startCustomersApp } from '../testing/customers-app.fixture';
import { PENDING_FLAGS, followingUnleash, operatorFor } from '../testing/migration-suite.fixture';

jest.setTimeout(180_000);

const services = integrationServices(['mongo', 'unleash']);
const who = { actor: 'schema-gate.int-spec', reason: 'cross-service gate test' };

/**
 * A migration of another service that follows customers.full-name, as orders' snapshot does: it
 * waits until customers reads fullName everywhere. Its own data is in memory; what is under test
 * is how its gate learns customers' phase (through customers' schema endpoint, over HTTP).
 */
const dependent = referenceMigration({
  id: 'orders.customer-snapshot',
  description: 'customer snapshot {firstName, lastName} -> {fullName}',
  service: 'orders',
  collection: 'orders',
  requires: [{ service: CUSTOMERS_SERVICE, migration: fullNameMigration.id, phase: 'switch-reads' }],
});

describe("a migration gated on customers' phase, asked through GET /.well-known/zdm/schema (customers on FerretDB with Unleash)", () => {
  let app: NestExpressApplication | undefined;
  let url: string;
  let db: Connection;
  let customers: Migrator;
  let orders: Migrator;

  beforeAll(async () => {
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    ({ migrator: customers } = await operatorFor(db.db as mongo.Db, services.unleash));
    app = await startCustomersApp(
      followingUnleash(services.unleash, { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, INSTANCE_ID: 'customers-1', BUILD: 'green' }),
    );
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    await waitFor('customers to report the pending flags', async () => {
      const [hb] = await customers.store.heartbeats.live();
      return hb && Object.entries(PENDING_FLAGS).every(([flag, on]) => hb.flags[flag] === on);
    });
    orders = new Migrator({
      registry: MigrationRegistry.create([dependent]),
      backend: createInMemoryBackend(new InMemoryCollection()),
      schemas: new HttpServiceSchemas({ urls: { [CUSTOMERS_SERVICE]: url }, timeoutMs: 2_000 }),
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('customers reports its migrations, their phases, and the versions and API it serves', async () => {
    const res = await fetch(`${url}${SCHEMA_PATH}`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as ServiceSchemaReport;
    expect(report).toMatchObject({ service: 'customers', instance: { instanceId: 'customers-1', build: 'green', api: '1.1.0' }, documents: { customers: { readMin: 1, readMax: 3, writes: 1 } } });
    expect(report.migrations.map((m) => [m.id, m.phase])).toEqual([
      ['customers.full-name', 'pending'],
      ['customers.status', 'pending'],
    ]);
    expect(report.instances.map((i) => i.instanceId)).toEqual(['customers-1']);
    const docs = (await (await fetch(`${url}/docs-json`)).json()) as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
    expect(Object.keys(docs.paths[SCHEMA_PATH].get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '503']));
  });

  it('the dependent migration may not start while customers.full-name is short of switch-reads, and says why', async () => {
    const refused = await orders.advance(dependent.id, who).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GateRefusedError);
    expect((refused as Error).message).toContain('requires:customers/customers.full-name@switch-reads: customers reports customers.full-name in pending; needs switch-reads or later');

    const walking = new Orchestrator({ migrator: orders, who }).walk(dependent.id, { timeoutMs: 1_000, pollMs: 200, to: 'expand' });
    const stopped = await walking.catch((err: unknown) => err);
    expect(stopped).toBeInstanceOf(OrchestrationError);
    expect((stopped as OrchestrationError).kind).toBe('refused');
    expect((stopped as Error).message).toMatch(/cannot leave pending[\s\S]*customers reports customers.full-name in pending; needs switch-reads or later[\s\S]*gave up after 1s/);
    expect((await orders.phaseMachine.state(dependent.id)).phase).toBe('pending');
  });

  it('starts once customers has walked full-name to switch-reads', async () => {
    const walked = await new Orchestrator({ migrator: customers, who }).walk(fullNameMigration.id, { timeoutMs: 60_000, pollMs: 200, to: 'switch-reads' });
    expect(walked).toMatchObject({ kind: 'reached', phase: 'switch-reads' });
    const [hb] = await customers.store.heartbeats.live();
    expect(hb.flags).toMatchObject(flagsForPhase(fullNameMigration, 'switch-reads'));

    expect(await orders.advance(dependent.id, who)).toBe('expand');
    const gate = (await orders.status(dependent.id)).gates.find((g) => g.gate.startsWith('requires:'));
    expect(gate).toEqual({
      gate: 'requires:customers/customers.full-name@switch-reads',
      ok: true,
      detail: 'customers reports customers.full-name in switch-reads, at or past switch-reads',
    });
  });

  it('holds again while customers cannot be reached: an unreachable dependency never opens the gate', async () => {
    await app?.close();
    app = undefined;
    const gate = (await orders.status(dependent.id)).gates.find((g) => g.gate.startsWith('requires:'));
    expect(gate).toEqual({
      gate: 'requires:customers/customers.full-name@switch-reads',
      ok: false,
      detail: `cannot ask customers (${url}${SCHEMA_PATH} cannot be reached); holding until it answers`,
    });
    await expect(orders.advance(dependent.id, who)).rejects.toThrow(/requires:customers\/customers.full-name@switch-reads: cannot ask customers/);
  });
});
