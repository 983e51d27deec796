import { HttpServiceSchemas, InstanceHeartbeat, Phase, SCHEMA_PATH, flagNames, serviceSchemaReport } from '@zdm/migrations-core';
import { InMemoryCollection, createInMemoryBackend, fullNameMigration } from '@zdm/migrations-core/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli, withOverrides } from './cli';
import { defineConfig } from './config';
import { ExitCode } from './lib/exit-codes';
import { memoryStream } from './testing/streams.fixture';
import { Fixture, FixtureScenario, createFixture, dumpFixture, fullName } from './testing/zdm.config.fixture';

const ID = fullName.id;

interface Run {
  code: number;
  lines: Record<string, unknown>[];
  result: Record<string, unknown>;
  stdout: string;
  stderr: string;
}

/** Runs `zdm --json <args>` in-process against a fixture. */
async function zdm(fixture: Fixture, args: string[], options: { signal?: AbortSignal; tty?: boolean; onLine?: (line: Record<string, unknown>) => void } = {}): Promise<Run> {
  const out = memoryStream(!!options.tty, (chunk) => {
    if (options.onLine && chunk.startsWith('{')) options.onLine(JSON.parse(chunk));
  });
  const err = memoryStream(!!options.tty);
  const code = await runCli(['--config', 'fixture.ts', ...(options.tty ? [] : ['--json']), ...args], {
    stdout: out,
    stderr: err,
    env: {},
    signal: options.signal,
    loadConfig: async () => fixture.config,
  });
  const lines = options.tty ? [] : out.text().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, result: lines[lines.length - 1] ?? {}, stdout: out.text(), stderr: err.text() };
}

const setup = (scenario: FixtureScenario = {}) => createFixture({ docs: 120, batchSize: 25, ...scenario });
const rows = (f: Fixture) => f.backend.collection('customers').all();

describe('zdm argument parsing', () => {
  const f = setup();

  it.each([
    [['advance'], /missing required argument 'id'/],
    [['start', ID, '--job', 'down'], /argument 'down' is invalid/],
    [['run', ID, '--timeout', 'soon'], /positive number of seconds/],
    [['status', '--frobnicate'], /unknown option '--frobnicate'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /Usage: zdm/],
  ])('exits 2 with a message on bad usage: %j', async (args, message) => {
    const run = await zdm(f, args);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toMatch(message);
  });

  it('prints help with the exit-code table and exits 0', async () => {
    const run = await zdm(f, ['--help']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('Exit codes:');
    expect(run.stdout).toContain('6  quarantine not empty');
  });

  it('exits 2 when no config is given by option or environment', async () => {
    const err = memoryStream();
    const code = await runCli(['status', '--json'], { stdout: memoryStream(), stderr: err, env: {} });
    expect(code).toBe(ExitCode.usage);
  });

  it('takes the config path from ZDM_CONFIG when --config is absent', async () => {
    const seen: string[] = [];
    const code = await runCli(['status', '--json'], {
      stdout: memoryStream(),
      stderr: memoryStream(),
      env: { ZDM_CONFIG: 'from-env.ts' },
      loadConfig: async (file) => (seen.push(file), f.config),
    });
    expect(code).toBe(ExitCode.ok);
    expect(seen).toEqual(['from-env.ts']);
  });

  it('exits 2 naming the known ids when the migration id is unknown', async () => {
    const run = await zdm(f, ['status', 'customers.nope']);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.result['error']).toContain(`unknown migration "customers.nope"; known: ${ID}`);
  });

  it('closes the connection after every command, failed ones included', () => {
    expect(f.connections.opened).toBeGreaterThan(0);
    expect(f.connections.closed).toBe(f.connections.opened);
  });
});

describe('zdm status', () => {
  it('shows phase, gates, counts, instances and the flags they see', async () => {
    const f = setup({ phase: 'expand', instances: ['new', 'old'] });
    const run = await zdm(f, ['status', ID]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({ command: 'status', phase: 'expand', next: 'dual-write', runnerCommand: 'run', counts: { belowTarget: 120, withOldFields: 120, quarantined: 0 } });
    expect(run.result['gates']).toEqual([
      expect.objectContaining({ gate: 'instances-live', ok: true }),
      expect.objectContaining({ gate: 'all-instances-read-new', ok: false, detail: 'not yet: customers-2 (build-v1)' }),
    ]);
    const f1 = flagNames(ID);
    expect(run.result['flagsSeen']).toEqual({
      'customers-1': { [f1.writeNew]: false, [f1.readNew]: false, [f1.writeOld]: true },
      'customers-2': { [f1.writeNew]: null, [f1.readNew]: null, [f1.writeOld]: null },
    });
  });

  it('renders text for people on a terminal', async () => {
    const run = await zdm(setup({ phase: 'expand', instances: ['new'] }), ['status', ID], { tty: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('phase    expand (next: dual-write)');
    expect(run.stdout).toMatch(/ok {4}all-instances-read-new/);
    expect(run.stdout).toContain('customers-1  build build-v2  reads v1..v2 writes v1  flags write-new=off read-new=off write-old=on');
  });

  it('shows the phase path and what the flag service holds', async () => {
    const f = setup({ phase: 'dual-write', instances: ['new'] });
    const json = await zdm(f, ['status', ID]);
    expect(json.result['path']).toEqual(['pending', 'expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete']);
    const f1 = flagNames(ID);
    expect(json.result['flagService']).toEqual({ [f1.writeNew]: true, [f1.readNew]: false, [f1.writeOld]: true });
    const text = await zdm(f, ['status', ID], { tty: true });
    expect(text.stdout).toContain('path     pending > expand > [dual-write] > backfill > verify > switch-reads > contract > complete');
    expect(text.stdout).toContain('unleash  write-new=on read-new=off write-old=on');
  });

  it('lists every migration when no id is given', async () => {
    const run = await zdm(setup(), ['status']);
    expect(run.result['migrations']).toEqual([expect.objectContaining({ id: ID, phase: 'pending' })]);
  });
});

describe('zdm plan', () => {
  it('reports affected documents and phases with flag changes, and writes nothing', async () => {
    const f = setup({ bad: 2, instances: ['new'], phase: 'backfill' });
    await zdm(f, ['status']); // seeds
    const before = await dumpFixture(f.store, f.backend, f.config.migrations);
    const run = await zdm(f, ['plan', ID]);
    expect(run.code).toBe(ExitCode.ok);
    const [plan] = run.result['plans'] as Record<string, unknown>[];
    expect(plan).toMatchObject({ id: ID, currentPhase: 'backfill', affected: 120, total: 120, reversible: true });
    expect(plan['phases']).toContainEqual(expect.objectContaining({ phase: 'dual-write', flags: { [flagNames(ID).writeNew]: true } }));
    expect(await dumpFixture(f.store, f.backend, f.config.migrations)).toEqual(before);
  });
});

describe('zdm start', () => {
  it('backfills with one progress line per batch and exits 0', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'] });
    const run = await zdm(f, ['start', ID]);
    expect(run.code).toBe(ExitCode.ok);
    const progress = run.lines.filter((l) => l['event'] === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(120 / 25);
    expect(progress[progress.length - 1]).toMatchObject({ done: 120, total: 120 });
    expect(run.result).toMatchObject({ ok: true, status: 'done', written: 120, quarantineOpen: 0 });
    expect(rows(f).every((r) => r.version === 2 && r.doc['fullName'] === `${r.doc['firstName']} ${r.doc['lastName']}`)).toBe(true);
    expect((await f.store.audit.list(ID)).map((a) => a.action)).toContain('backfill-done');
  });

  it('refuses with exit 3 before every instance can read the new shape, touching nothing', async () => {
    const f = setup({ phase: 'expand', instances: ['new'] });
    const run = await zdm(f, ['start', ID]);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.result['error']).toContain('backfill runs in phase backfill or verify, but the migration is in expand; advance first');
    expect(rows(f).every((r) => r.version === 1 && r.rev === 0)).toBe(true);
  });

  it('exits 6 when documents were quarantined', async () => {
    const run = await zdm(setup({ phase: 'backfill', bad: 3 }), ['start', ID]);
    expect(run.code).toBe(ExitCode.quarantine);
    expect(run.result).toMatchObject({ status: 'done', quarantineOpen: 3 });
  });

  it('exits 4 when another runner holds the lease', async () => {
    const f = setup({ phase: 'backfill' });
    await f.store.leases.acquire(`${ID}:backfill`, 'other-host:1', 60_000);
    const run = await zdm(f, ['start', ID]);
    expect(run.code).toBe(ExitCode.leaseHeld);
    expect(run.result['message']).toContain('another runner holds the lease');
  });

  it.each(['pause', 'abort'] as const)('exits 5 without starting while the migration is %sd', async (what) => {
    const f = setup({ phase: 'backfill', command: what });
    const run = await zdm(f, ['start', ID]);
    expect(run.code).toBe(ExitCode.stopped);
    expect(run.result['error']).toContain(`zdm resume ${ID}`);
    expect(await f.store.leases.readCheckpoint(`${ID}:backfill`)).toBeNull();
  });

  it('stops between batches on an operator abort, keeps the checkpoint, and exits 5', async () => {
    const f = setup({ phase: 'backfill', pauseMs: 20 });
    const operator: { abort?: Promise<Run> } = {};
    const run = await zdm(f, ['start', ID], { onLine: (l) => void (l['event'] === 'progress' && (operator.abort ??= zdm(f, ['abort', ID]))) });
    expect((await operator.abort)?.code).toBe(ExitCode.ok);
    expect(run.code).toBe(ExitCode.stopped);
    expect(run.result['status']).toBe('aborted');
    const checkpoint = await f.store.leases.readCheckpoint(`${ID}:backfill`);
    expect(checkpoint?.processed).toBeGreaterThan(0);
    expect(checkpoint?.processed).toBeLessThan(120);
  });

  it('stops on SIGINT with exit 5 and resumes from the checkpoint on the next start', async () => {
    const f = setup({ phase: 'backfill', pauseMs: 20 });
    const stop = new AbortController();
    const first = await zdm(f, ['start', ID], { signal: stop.signal, onLine: (l) => l['event'] === 'progress' && stop.abort() });
    expect(first.code).toBe(ExitCode.stopped);
    expect(first.result['status']).toBe('stopped');
    const processed = first.result['processed'] as number;
    expect(processed).toBeLessThan(120);
    const second = await zdm(f, ['start', ID]);
    expect(second.code).toBe(ExitCode.ok);
    const firstProgress = second.lines.find((l) => l['event'] === 'progress');
    expect(firstProgress?.['done']).toBe(processed + 25);
    expect(second.result['written']).toBe(120);
  });
});

describe('zdm advance', () => {
  it('moves one phase when the gates hold and records the actor and reason', async () => {
    const f = setup({ phase: 'expand', instances: ['new'] });
    const run = await zdm(f, ['advance', ID, '--actor', 'ops@test', '--reason', 'ticket 42']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({ from: 'expand', to: 'dual-write' });
    expect(f.flags.values[flagNames(ID).writeNew]).toBe(true);
    const audit = await f.store.audit.list(ID);
    expect(audit.find((a) => a.action === 'phase')).toMatchObject({ actor: 'ops@test', reason: 'ticket 42', details: { from: 'expand', to: 'dual-write' } });
    expect(audit.map((a) => a.action)).toEqual(['flag', 'phase', 'flags-seen']);
  });

  /** A hand-made instance that reads v2 and reports write-new as given (the fixture's own instances follow the flags at once). */
  const lagging = (writeNew: boolean): InstanceHeartbeat => ({
    service: 'customers',
    instanceId: 'customers-9',
    build: 'build-v2',
    schemas: { customers: { readMin: 1, readMax: 2, writes: writeNew ? 2 : 1 } },
    flags: { [flagNames(ID).writeNew]: writeNew, [flagNames(ID).readNew]: false, [flagNames(ID).writeOld]: true },
    at: new Date(),
  });

  /** A fixture in expand with one instance that follows the flags and one that lags (customers-9). */
  async function withLaggingInstance() {
    const f = setup({ phase: 'expand', instances: ['new'] });
    await zdm(f, ['status']);
    await f.store.heartbeats.beat(lagging(false), 60_000);
    return f;
  }

  it('waits after the flip until every live instance reports the new flag value, then audits who saw it', async () => {
    const f = await withLaggingInstance();
    const catchUp = setTimeout(() => void f.store.heartbeats.beat(lagging(true), 60_000), 150);
    const run = await zdm(f, ['advance', ID, '--flags-timeout', '5']);
    clearTimeout(catchUp);
    expect(run.code).toBe(ExitCode.ok);
    const waiting = run.lines.find((l) => l['event'] === 'flags-waiting');
    expect(waiting?.['lagging']).toEqual([{ instanceId: 'customers-9', reports: `${flagNames(ID).writeNew}=off` }]);
    expect(run.result['flagsSeen']).toMatchObject({ flags: { [flagNames(ID).writeNew]: true }, instances: ['customers-1', 'customers-9'] });
    expect((run.result['flagsSeen'] as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(100);
    const seen = (await f.store.audit.list(ID)).find((a) => a.action === 'flags-seen');
    expect(seen?.details).toMatchObject({ phase: 'dual-write', instances: ['customers-1', 'customers-9'] });
  });

  it('exits 3 naming the instances that never report the new value, and audits it; the phase change stays', async () => {
    const f = await withLaggingInstance();
    const run = await zdm(f, ['advance', ID, '--flags-timeout', '0.3']);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.result['error']).toContain(`moved to dual-write and set ${flagNames(ID).writeNew}=on`);
    expect(run.result['error']).toContain(`customers-9: ${flagNames(ID).writeNew}=off`);
    expect((await f.store.state.load(ID))?.phase).toBe('dual-write');
    expect((await f.store.audit.list(ID)).map((a) => a.action)).toContain('flags-not-seen');
  });

  it('does not wait when --flags-timeout is 0', async () => {
    const run = await zdm(await withLaggingInstance(), ['advance', ID, '--flags-timeout', '0']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result['flagsSeen']).toBeNull();
  });

  it('exits 3 naming each failing gate', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'], bad: 1, quarantine: 'bad' });
    const run = await zdm(f, ['advance', ID]);
    expect(run.code).toBe(ExitCode.refused);
    expect((run.result['failingGates'] as { gate: string }[]).map((g) => g.gate)).toEqual(['no-document-below-target', 'quarantine-empty']);
    expect((await f.store.state.load(ID))?.phase).toBe('backfill');
  });
});

describe("zdm with a migration that waits for another service's step", () => {
  /** Orders' snapshot follows customers.full-name: it may start once customers reads fullName everywhere. */
  const snapshot = fullNameMigration({
    id: 'orders.customer-snapshot',
    description: 'customer snapshot {firstName, lastName} -> {fullName}',
    service: 'orders',
    collection: 'orders',
    requires: [{ service: 'customers', migration: ID, phase: 'switch-reads' }],
  });
  /** What customers' /.well-known/zdm/schema answers, with customers.full-name in `phase`. */
  let customersPhase: Phase = 'backfill';
  const customers = createServer((_req, res) => {
    const report = serviceSchemaReport({
      service: 'customers',
      instance: { instanceId: 'c-1', build: 'green' },
      documents: {},
      migrations: [fullName],
      states: new Map([[ID, { phase: customersPhase }]]),
      heartbeats: [],
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report));
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => customers.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(customers.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    customers.closeAllConnections();
    await new Promise((resolve) => customers.close(resolve));
  });

  const ordersFixture = (customersUrl: () => string) => {
    const backend = createInMemoryBackend(new InMemoryCollection());
    const config = defineConfig({
      service: 'orders',
      migrations: [snapshot],
      connect: async () => ({ backend, schemas: new HttpServiceSchemas({ urls: { customers: customersUrl() } }), close: async () => undefined }),
    });
    return { config, backend, store: backend.store } as unknown as Fixture;
  };

  it('advance exits 3 while customers is short of the required phase, naming the gate; it starts once customers is there', async () => {
    const f = ordersFixture(() => url);
    customersPhase = 'backfill';
    const refused = await zdm(f, ['advance', snapshot.id]);
    expect(refused.code).toBe(ExitCode.refused);
    expect(refused.result['failingGates']).toEqual([
      { gate: 'requires:customers/customers.full-name@switch-reads', detail: 'customers reports customers.full-name in backfill; needs switch-reads or later' },
    ]);

    customersPhase = 'switch-reads';
    const started = await zdm(f, ['advance', snapshot.id, '--flags-timeout', '0']);
    expect(started.code).toBe(ExitCode.ok);
    expect((await f.store.state.load(snapshot.id))?.phase).toBe('expand');
  });

  it('run gives up naming the unreachable service, and leaves the migration where it was', async () => {
    const f = ordersFixture(() => 'http://127.0.0.1:1');
    const run = await zdm(f, ['run', snapshot.id, '--timeout', '0.5', '--poll', '0.1']);
    expect(run.code).toBe(ExitCode.refused);
    expect(String(run.result['error'])).toContain(
      `requires:customers/customers.full-name@switch-reads: cannot ask customers (http://127.0.0.1:1${SCHEMA_PATH} cannot be reached); holding until it answers`,
    );
    expect(await f.store.state.load(snapshot.id)).toBeNull();
  });
});

describe('zdm verify', () => {
  it('exits 6 when documents fail verification', async () => {
    const run = await zdm(setup({ phase: 'verify' }), ['verify', ID]);
    expect(run.code).toBe(ExitCode.quarantine);
    expect(run.result['verify']).toMatchObject({ checked: 120, mismatches: 120 });
  });

  it('exits 0 after a clean backfill and records the report', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'] });
    await zdm(f, ['start', ID]);
    await zdm(f, ['advance', ID]);
    const run = await zdm(f, ['verify', ID]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result['roundTrip']).toMatchObject({ reversible: true });
    expect((await f.store.state.load(ID))?.verify).toMatchObject({ checked: 120, mismatches: 0 });
  });
});

describe('zdm rollback', () => {
  it('restores the old shape before contract', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'] });
    await zdm(f, ['start', ID]);
    const run = await zdm(f, ['rollback', ID]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({ from: 'backfill', phase: 'rolled-back', job: 'unexpand' });
    expect(rows(f).every((r) => r.version === 1 && !('fullName' in r.doc))).toBe(true);
  });

  it('finishes an interrupted restore when run again', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'], pauseMs: 20 });
    await zdm(f, ['start', ID]);
    const stop = new AbortController();
    const first = await zdm(f, ['rollback', ID], { signal: stop.signal, onLine: (l) => l['event'] === 'progress' && stop.abort() });
    expect(first.code).toBe(ExitCode.stopped);
    expect(rows(f).filter((r) => r.version === 2).length).toBeGreaterThan(0);
    const second = await zdm(f, ['rollback', ID]);
    expect(second.code).toBe(ExitCode.ok);
    expect(rows(f).every((r) => r.version === 1 && !('fullName' in r.doc))).toBe(true);
  });

  it('goes through an earlier abort, which only held up the backfill', async () => {
    const f = setup({ phase: 'dual-write', command: 'abort', instances: ['new'] });
    const run = await zdm(f, ['rollback', ID]);
    expect(run.code).toBe(ExitCode.ok);
    expect(await f.store.state.load(ID)).toMatchObject({ phase: 'rolled-back', command: 'run' });
  });

  it('refuses with exit 3 and the reason for an irreversible migration past contract', async () => {
    const run = await zdm(setup({ phase: 'contract', irreversible: true }), ['rollback', ID]);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.result['error']).toContain('is irreversible: it has no down()');
  });
});

describe('zdm quarantine', () => {
  it('lists entries with exit 6, and 0 when empty', async () => {
    const full = await zdm(setup({ bad: 2, quarantine: 'bad' }), ['quarantine', 'list', ID]);
    expect(full.code).toBe(ExitCode.quarantine);
    expect(full.result).toMatchObject({ count: 3 });
    expect(full.result['command']).toBe('quarantine list');
    expect((await zdm(setup(), ['quarantine', 'list', ID])).code).toBe(ExitCode.ok);
  });

  it('retry clears fixed documents (exit 0) and keeps broken ones (exit 6)', async () => {
    const fixed = await zdm(setup({ phase: 'backfill', quarantine: 'fixed' }), ['quarantine', 'retry', ID]);
    expect(fixed.code).toBe(ExitCode.ok);
    expect(fixed.result['fixed']).toHaveLength(3);
    const broken = await zdm(setup({ phase: 'backfill', bad: 2, quarantine: 'bad' }), ['quarantine', 'retry', ID]);
    expect(broken.code).toBe(ExitCode.quarantine);
    expect((broken.result['still'] as { reason: string }[]).map((e) => e.reason)).toEqual(['up threw: lastName is missing', 'up threw: lastName is missing']);
    expect(broken.result['fixed']).toHaveLength(1);
  });
});

describe('zdm lazy expire', () => {
  it.each([
    [['lazy', 'expire', ID, '--reason', 'deadline'], /required option '--before <deadline>' not specified/],
    [['lazy', 'expire', ID, '--before', 'yesterday', '--reason', 'deadline'], /--before yesterday: give the deadline as an ISO 8601 date/],
    [['lazy', 'expire', ID, '--before', '2026-01-01'], /lazy expire changes stored data: say why with --reason/],
  ])('exits 2 naming the problem: %j', async (args, message) => {
    const run = await zdm(setup(), args);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr + JSON.stringify(run.result)).toMatch(message);
  });

  it('refuses (exit 3) a migration that is not lazy-only, writing nothing', async () => {
    const f = setup({ phase: 'backfill' });
    const run = await zdm(f, ['lazy', 'expire', ID, '--before', '2026-01-01', '--reason', 'deadline']);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.result['error']).toBe('customers.full-name: customers.full-name is not lazy-only (strategy expand-contract); only a lazy-only migration expires documents');
    expect(rows(f)).toHaveLength(120);
    expect(rows(f).filter((r) => r.version !== 1 || r.rev !== 0)).toEqual([]);
  });
});

describe('zdm run', () => {
  it('walks from pending to complete, running each job at its phase', async () => {
    const f = setup({ instances: ['new', 'new'] });
    const run = await zdm(f, ['run', ID, '--poll', '0.01']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.lines.filter((l) => l['event'] === 'phase').map((l) => l['to'])).toEqual(['expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete']);
    expect(run.lines.filter((l) => l['event'] === 'job-start').map((l) => l['job'])).toEqual(['backfill', 'verify', 'contract']);
    expect(rows(f).every((r) => r.version === 2 && Object.keys(r.doc).sort().join() === 'fullName')).toBe(true);
    expect(f.flags.values).toEqual({ [flagNames(ID).writeNew]: true, [flagNames(ID).readNew]: true, [flagNames(ID).writeOld]: false });
  });

  it('waits for gates by polling and exits 3 naming them after the timeout', async () => {
    const f = setup({ phase: 'expand', instances: ['new', 'old'] });
    const started = performance.now();
    const run = await zdm(f, ['run', ID, '--timeout', '0.3', '--poll', '0.05']);
    expect(run.code).toBe(ExitCode.refused);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(run.lines.filter((l) => l['event'] === 'waiting')).toHaveLength(1);
    expect(run.result['error']).toContain('all-instances-read-new: not yet: customers-2 (build-v1)');
  });

  it('advances once a late instance catches up while it waits', async () => {
    const f = setup({ phase: 'expand', instances: ['old'] });
    await zdm(f, ['status']);
    const upgrade = setTimeout(() => {
      const hb = { service: 'customers', instanceId: 'customers-1', build: 'b2', schemas: { customers: { readMin: 1, readMax: 2, writes: 1 } }, flags: {}, at: new Date() };
      void f.store.heartbeats.beat(hb, 60_000);
    }, 100);
    const run = await zdm(f, ['run', ID, '--timeout', '0.5', '--poll', '0.02']);
    clearTimeout(upgrade);
    // The next gate (write-new seen) never holds for this hand-made instance, so the walk ends refused there.
    expect(run.lines.filter((l) => l['event'] === 'phase').map((l) => l['to'])).toEqual(['dual-write']);
    expect(run.code).toBe(ExitCode.refused);
  });

  it('waits while another runner holds the lease of a job, then resumes it from the checkpoint', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'] });
    await zdm(f, ['status']);
    // A runner that died holding the lease: it expires on its own.
    await f.store.leases.acquire(`${ID}:backfill`, 'killed-host:1', 300);
    const run = await zdm(f, ['run', ID, '--poll', '0.05']);
    expect(run.code).toBe(ExitCode.ok);
    const waiting = run.lines.filter((l) => l['event'] === 'waiting');
    expect(waiting.map((l) => (l['failingGates'] as { gate: string }[])[0].gate)).toEqual(['lease-free']);
    // Retries while the lease is held do not announce the job again.
    expect(run.lines.filter((l) => l['event'] === 'job-start' && l['job'] === 'backfill')).toHaveLength(1);
    expect(run.lines.filter((l) => l['event'] === 'phase').map((l) => l['to'])).toEqual(['verify', 'switch-reads', 'contract', 'complete']);
    expect(rows(f).every((r) => r.version === 2)).toBe(true);
  });

  it('stops in the phase --to names, with the path it took, and refuses a phase off the path', async () => {
    const f = setup({ phase: 'backfill', instances: ['new'] });
    const run = await zdm(f, ['run', ID, '--to', 'switch-reads', '--poll', '0.05']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({ command: 'run', phase: 'switch-reads', transitions: [{ from: 'backfill', to: 'verify' }, { from: 'verify', to: 'switch-reads' }] });
    expect((await f.store.state.load(ID))?.phase).toBe('switch-reads');
    const wrong = await zdm(f, ['run', ID, '--to', 'sideways']);
    expect(wrong.code).toBe(ExitCode.usage);
  });

  it('stops at exit 6 when the backfill quarantines documents', async () => {
    const run = await zdm(setup({ phase: 'backfill', instances: ['new'], bad: 1 }), ['run', ID]);
    expect(run.code).toBe(ExitCode.quarantine);
    expect(run.result).toMatchObject({ job: 'backfill', quarantineOpen: 1 });
  });
});

describe('zdm audit', () => {
  it('lists phase changes and flag flips with actor and reason, oldest first', async () => {
    const f = setup({ phase: 'expand', instances: ['new'] });
    await zdm(f, ['advance', ID, '--actor', 'ops@test', '--reason', 'ticket 7']);
    const run = await zdm(f, ['audit', ID]);
    expect(run.code).toBe(ExitCode.ok);
    const entries = run.result['entries'] as { action: string; actor: string; reason: string }[];
    expect(entries.map((e) => e.action)).toEqual(['flag', 'phase', 'flags-seen']);
    expect(entries.every((e) => e.actor === 'ops@test' && e.reason === 'ticket 7')).toBe(true);
    const text = await zdm(f, ['audit', ID, '--limit', '1'], { tty: true });
    expect(text.stdout).toMatch(/1 audit entry\n.*flags-seen +ops@test: ticket 7/);
  });
});

describe('overrides on the command line', () => {
  it('replace the config values for one command', () => {
    const config = setup().config;
    const changed = withOverrides(config, { leaseTtl: 2_000, minInstances: 3, batchSize: 80, targetLatency: 50 });
    expect(changed).toMatchObject({ leaseTtlMs: 2_000, minInstances: 3, throttle: { initialBatchSize: 80, maxBatchSize: 80, targetLatencyMs: 50 } });
    expect(withOverrides(config, {})).toEqual({ ...config, throttle: config.throttle });
  });

  it('lower the smallest batch to a first batch below the default bounds', () => {
    const config = { ...setup().config, throttle: undefined };
    expect(withOverrides(config, { batchSize: 10 }).throttle).toEqual({ initialBatchSize: 10, minBatchSize: 10 });
    expect(withOverrides(config, { batchSize: 5_000 }).throttle).toEqual({ initialBatchSize: 5_000, maxBatchSize: 5_000 });
  });

  it('set the batch size runners start with', async () => {
    const run = await zdm(setup({ phase: 'backfill' }), ['start', ID, '--batch-size', '10']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.lines.find((l) => l['event'] === 'progress')?.['done']).toBe(10);
  });

  it('make a gate wait for more instances', async () => {
    const run = await zdm(setup({ phase: 'expand', instances: ['new'] }), ['advance', ID, '--min-instances', '2']);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.result['error']).toContain('instances-live: 1 live instance(s) of customers, need at least 2');
  });

  it('reject values that are not whole numbers', async () => {
    const run = await zdm(setup(), ['status', '--lease-ttl', '1.5']);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toContain('expected a whole number >= 100');
  });
});

describe('definitions and config at load', () => {
  it('exits 2 naming the invalid migration before connecting', async () => {
    const f = setup({ invalid: true });
    const run = await zdm(f, ['status']);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.result['error']).toContain('customers.broken: a step must go from n to n+1, got 2 -> 4');
    expect(f.connections.opened).toBe(0);
  });

  it('exits 2 when an applied migration was edited since', async () => {
    const f = setup({ phase: 'backfill', checksum: '0123456789abcdef' });
    const run = await zdm(f, ['status', ID]);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.result['error']).toContain(`${ID}: already applied with checksum 0123456789abcdef`);
    expect(f.connections.closed).toBe(1);
  });
});
