import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GateRefusedError } from './gates';
import { MigrationDefinitionError, MigrationRegistry } from './migration-registry';
import { Migrator } from './migrator';
import { Phase } from './phases';
import {
  HttpServiceSchemas,
  MigrationRequirement,
  SCHEMA_PATH,
  ServiceSchemaReport,
  ServiceSchemas,
  requirementGate,
  requirementGates,
  serviceSchemaReport,
} from './service-schema';
import { InMemoryCollection, createInMemoryBackend } from './testing/in-memory-target';
import { fullNameMigration, heartbeat } from './testing/migration.fixtures';

const customersFullName = fullNameMigration();
const needsSwitchReads: MigrationRequirement = { service: 'customers', migration: 'customers.full-name', phase: 'switch-reads' };

/**
 * The example: orders' snapshot of a customer follows customers.full-name, so it declares that it
 * waits until customers reads the new field everywhere (switch-reads).
 */
const snapshotMigration = fullNameMigration({
  id: 'orders.customer-snapshot',
  description: 'customer snapshot {firstName, lastName} -> {fullName}',
  service: 'orders',
  collection: 'orders',
  requires: [needsSwitchReads],
});

/** What customers reports when customers.full-name is in `phase`. */
function customersAt(phase: Phase): ServiceSchemaReport {
  return serviceSchemaReport({
    service: 'customers',
    instance: { instanceId: 'c-1', build: 'customers-v2', api: '1.1.0' },
    documents: { customers: { readMin: 1, readMax: 2, writes: 2 } },
    migrations: [customersFullName],
    states: new Map([['customers.full-name', { phase, updatedAt: new Date('2026-01-02T03:04:05Z') }]]),
    heartbeats: [heartbeat('c-1', { writes: 2 })],
    at: new Date('2026-01-02T03:04:06Z'),
  });
}

/** A port answering from a variable, counting the questions. */
class ScriptedSchemas implements ServiceSchemas {
  answer: ServiceSchemaReport | Error = new Error('connect ECONNREFUSED 127.0.0.1:1');
  asked: string[] = [];
  async schemaOf(service: string): Promise<ServiceSchemaReport> {
    this.asked.push(service);
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

describe('service schema reports', () => {
  it('list each migration with its forward path, its stored phase and what it requires', () => {
    const report = customersAt('backfill');
    expect(report.migrations).toEqual([
      {
        id: 'customers.full-name',
        description: customersFullName.description,
        target: 'customers',
        from: 1,
        to: 2,
        strategy: 'expand-contract',
        phases: ['pending', 'expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete'],
        phase: 'backfill',
        since: '2026-01-02T03:04:05.000Z',
        requires: [],
      },
    ]);
    expect(report.instances).toEqual([{ instanceId: 'c-1', build: 'build-c-1', documents: { customers: { readMin: 1, readMax: 2, writes: 2 } } }]);
  });

  it("carry the facts each live instance reports in its heartbeat (the key ids its token verifier fetched)", () => {
    const report = serviceSchemaReport({
      service: 'customers',
      instance: { instanceId: 'c-1', build: 'build-c-1' },
      documents: {},
      migrations: [],
      states: new Map(),
      heartbeats: [{ ...heartbeat('c-1'), facts: { 'auth.jwks-kids': ['k1', 'k2'] } }, heartbeat('c-2')],
    });
    expect(report.instances.map((i) => [i.instanceId, i.facts])).toEqual([
      ['c-1', { 'auth.jwks-kids': ['k1', 'k2'] }],
      ['c-2', undefined],
    ]);
  });

  it('report a migration never started as pending, and leave out other services', () => {
    const report = serviceSchemaReport({
      service: 'orders',
      instance: { instanceId: 'o-1', build: 'orders-v2' },
      documents: {},
      migrations: [customersFullName, snapshotMigration],
      states: new Map(),
      heartbeats: [heartbeat('c-1')],
    });
    expect(report.migrations.map((m) => [m.id, m.phase, m.since, m.requires])).toEqual([['orders.customer-snapshot', 'pending', null, [needsSwitchReads]]]);
    expect(report.instances).toEqual([]);
  });
});

describe('requirement gates', () => {
  it('hold while the other migration is before the required phase, saying where it is', () => {
    expect(requirementGate(needsSwitchReads, customersAt('verify'))).toEqual({
      gate: 'requires:customers/customers.full-name@switch-reads',
      ok: false,
      detail: 'customers reports customers.full-name in verify; needs switch-reads or later',
    });
  });

  it('open at the required phase, past it, and once it is complete', () => {
    for (const phase of ['switch-reads', 'contract', 'complete'] as const) {
      expect(requirementGate(needsSwitchReads, customersAt(phase)).ok).toBe(true);
    }
    expect(requirementGate(needsSwitchReads, customersAt('contract')).detail).toBe('customers reports customers.full-name in contract, at or past switch-reads');
  });

  it('hold when the other migration was rolled back', () => {
    expect(requirementGate(needsSwitchReads, customersAt('rolled-back'))).toMatchObject({ ok: false, detail: 'customers reports customers.full-name in rolled-back; needs switch-reads or later' });
  });

  it('hold when the service cannot be asked, and never open', () => {
    expect(requirementGate(needsSwitchReads, new Error('http://customers:3000/.well-known/zdm/schema cannot be reached'))).toEqual({
      gate: 'requires:customers/customers.full-name@switch-reads',
      ok: false,
      detail: 'cannot ask customers (http://customers:3000/.well-known/zdm/schema cannot be reached); holding until it answers',
    });
  });

  it('hold when the service does not know the migration or its path has no such phase', () => {
    expect(requirementGate({ ...needsSwitchReads, migration: 'customers.nickname' }, customersAt('complete')).detail).toBe(
      'customers reports no migration customers.nickname (it reports: customers.full-name)',
    );
    const additive = customersAt('verify');
    additive.migrations[0].phases = ['pending', 'expand', 'backfill', 'verify', 'complete'];
    expect(requirementGate(needsSwitchReads, additive).detail).toBe('customers.full-name has no phase switch-reads (its phases: pending -> expand -> backfill -> verify -> complete)');
  });

  it('hold when another service answered in its place (a wrong URL)', () => {
    expect(requirementGate({ ...needsSwitchReads, service: 'billing' }, customersAt('complete')).detail).toBe('asked billing, but customers answered; check the URL configured for billing');
  });

  it('ask each service once, and hold without a port to ask through', async () => {
    const schemas = new ScriptedSchemas();
    schemas.answer = customersAt('complete');
    const def = { requires: [needsSwitchReads, { ...needsSwitchReads, phase: 'contract' as const }] };
    expect((await requirementGates(def, schemas)).map((g) => g.ok)).toEqual([true, true]);
    expect(schemas.asked).toEqual(['customers']);
    expect(await requirementGates({}, schemas)).toEqual([]);
    const [unconfigured] = await requirementGates(def, undefined);
    expect(unconfigured.ok).toBe(false);
    expect(unconfigured.detail).toMatch(/^cannot ask customers \(no way to reach other services is configured/);
  });

  it('are checked when the registry is built: another service, a known id, a phase to reach', () => {
    const bad = fullNameMigration({
      service: 'orders',
      requires: [
        { service: 'orders', migration: 'orders.money', phase: 'complete' },
        { service: 'customers', migration: '', phase: 'pending' },
      ],
    });
    const error = (() => {
      try {
        MigrationRegistry.create([bad]);
      } catch (err) {
        return err as MigrationDefinitionError;
      }
      throw new Error('the registry accepted it');
    })();
    expect(error).toBeInstanceOf(MigrationDefinitionError);
    expect(error.problems.map((p) => p.message)).toEqual([
      'requires[0] names its own service orders; order migrations of one service by their versions instead',
      'requires[1].migration must be a migration id of customers',
      'requires[1].phase must be one of expand, dual-write, backfill, verify, switch-reads, contract, complete, got "pending"',
    ]);
  });
});

describe('a migration that requires another service’s step', () => {
  const ops = { actor: 'alice', reason: 'OPS-14' };
  function setup() {
    const collection = new InMemoryCollection();
    const schemas = new ScriptedSchemas();
    const migrator = new Migrator({ registry: MigrationRegistry.create([snapshotMigration]), backend: createInMemoryBackend(collection), schemas });
    return { migrator, schemas };
  }

  it('does not even leave pending while customers is short of switch-reads, and says why', async () => {
    const { migrator, schemas } = setup();
    schemas.answer = customersAt('backfill');
    const refused = await migrator.advance(snapshotMigration.id, ops).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GateRefusedError);
    expect((refused as Error).message).toBe(
      'Cannot leave pending for orders.customer-snapshot; failing gate(s):\n' +
        '  - requires:customers/customers.full-name@switch-reads: customers reports customers.full-name in backfill; needs switch-reads or later',
    );
    expect((await migrator.phaseMachine.state(snapshotMigration.id)).phase).toBe('pending');
  });

  it('starts once customers reports switch-reads, and holds again when customers cannot be reached', async () => {
    const { migrator, schemas } = setup();
    schemas.answer = customersAt('switch-reads');
    expect(await migrator.advance(snapshotMigration.id, ops)).toBe('expand');

    schemas.answer = new Error('http://127.0.0.1:1/.well-known/zdm/schema cannot be reached');
    const status = await migrator.status(snapshotMigration.id);
    expect(status.gates.find((g) => g.gate.startsWith('requires:'))).toEqual({
      gate: 'requires:customers/customers.full-name@switch-reads',
      ok: false,
      detail: 'cannot ask customers (http://127.0.0.1:1/.well-known/zdm/schema cannot be reached); holding until it answers',
    });
    await expect(migrator.advance(snapshotMigration.id, ops)).rejects.toThrow(/requires:customers\/customers.full-name@switch-reads: cannot ask customers/);
  });
});

describe('HttpServiceSchemas', () => {
  let answer: (req: IncomingMessage, res: ServerResponse) => void;
  const server = createServer((req, res) => answer(req, res));
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it(`reads GET ${SCHEMA_PATH} of the service's URL`, async () => {
    const paths: string[] = [];
    answer = (req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(customersAt('contract')));
    };
    const report = await new HttpServiceSchemas({ urls: { customers: `${url}/` } }).schemaOf('customers');
    expect(report.migrations[0].phase).toBe('contract');
    expect(paths).toEqual([SCHEMA_PATH]);
  });

  it('fails, naming the URL, on an error status, a body that is no report, no answer in time, or no URL', async () => {
    const schemas = new HttpServiceSchemas({ urls: { customers: url }, timeoutMs: 200 });
    answer = (_req, res) => res.writeHead(503).end();
    await expect(schemas.schemaOf('customers')).rejects.toThrow(`${url}${SCHEMA_PATH} answered 503`);
    answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}');
    await expect(schemas.schemaOf('customers')).rejects.toThrow(`${url}${SCHEMA_PATH} answered something that is not a schema report`);
    answer = () => undefined;
    await expect(schemas.schemaOf('customers')).rejects.toThrow(`${url}${SCHEMA_PATH} did not answer within 200 ms`);
    await expect(schemas.schemaOf('billing')).rejects.toThrow('no URL configured for billing');
  });

  it('fails when nothing listens at the URL', async () => {
    await expect(new HttpServiceSchemas({ urls: { customers: 'http://127.0.0.1:1' } }).schemaOf('customers')).rejects.toThrow(`http://127.0.0.1:1${SCHEMA_PATH} cannot be reached`);
  });
});
