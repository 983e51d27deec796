import { customersMigrations, joinFullName } from '@zdm/customers-domain';
import { TcpProxy, startServices, describeServices, type Services } from '@zdm/dev-services';
import { MigrationDefinition, flagsForPhase, strategyOf } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { UnleashFlagAdmin } from '@zdm/migrations-nest';
import { mongo } from 'mongoose';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { renderChart } from './chart.svg';
import { CustomerInstance, CustomersFleet, LaunchRecipe, ROOT, materializeRelease, workingTreeRecipe } from './customers.fleet';
import { EndpointWatcher } from './endpoint.watcher';
import { LoadGenerator } from './load-generator';
import { isFailure } from './load.model';
import type { LoadResultMessage } from './load.protocol';
import { NginxLoadBalancer, summarizeAccessLog } from './nginx.load-balancer';
import { InProcessOrchestration } from './orchestration';
import { freePort, sleep } from './os.util';
import { ProcessSupervisor } from './process-supervisor';
import { DemoReport, FaultRecord, MigrationRecord, buildReport, renderSummary } from './report';
import { seedCustomers } from './seed';
import { Timeline } from './timeline';
import { documentCensus, readBack } from './verification';
import { ZdmDriver, ZdmEvent, ZdmInvocation } from './zdm.driver';

/** Options of {@link DemoRun}. */
export interface DemoOptions {
  /** Customers seeded at v1. */
  docs: number;
  /** Requests per second of the load. */
  rps: number;
  /** Where the load balancer listens. */
  host: string;
  port: number;
  /** Instances of blue and of green. */
  instances: number;
  /** Where latest.json, latest.md and latest.svg go (main.ts: reports/demo/last-run unless --out). */
  outDir: string;
  /** Keep the temp directory (logs of every process) even when the run passes. */
  keepLogs: boolean;
  /** How long Unleash stays unreachable during dual-write. */
  unleashOutageMs: number;
  /** How long the store is frozen (SIGSTOP, then SIGCONT) mid-backfill. */
  storeStallMs: number;
  /** Lease lifetime of the runners (a killed runner's lease must expire before the next resumes). */
  leaseTtlMs: number;
  /** Longest time for walking every migration; past it the runners are stopped and the run is reported as failed. */
  walkTimeoutMs: number;
  log: (line: string) => void;
}

const SERVICE = 'customers';
const COLLECTION = 'customers';

/** Names phases for the report: the first migration's as they are, later ones as `<short id>:<phase>`. */
export function phaseLabel(defs: readonly MigrationDefinition[], id: string, phase: string): string {
  return defs[0]?.id === id ? phase : `${id.replace(/^customers\./, '')}:${phase}`;
}

/** Host and port of a URL. */
function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * The whole story of `npm run demo`, start to end: services, seed, blue behind nginx, load, green,
 * the switch, the migrations walked by the `zdm` CLI with faults injected, and the proof. Every
 * process it starts is stopped by {@link DemoRun.cleanup}, which main.ts also calls on Ctrl-C.
 */
export class DemoRun {
  readonly timeline: Timeline;
  readonly workDir = mkdtempSync(path.join(tmpdir(), 'zdm-demo-'));
  private readonly supervisor = new ProcessSupervisor(this.workDir);
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private readonly faults: FaultRecord[] = [];
  private readonly notes: string[] = [];
  private readonly defs: readonly MigrationDefinition[] = customersMigrations.filter((d) => d.service === SERVICE);
  private cleaning: Promise<void> | null = null;
  /** Set when the walk deadline stopped the migrations. */
  private incomplete: string | null = null;
  private readonly startedAt = new Date().toISOString();
  /** The store's process, when the demo started it (the store-stall fault freezes it). */
  private storePid: number | undefined;

  constructor(private readonly options: DemoOptions) {
    this.timeline = new Timeline(options.log);
    this.supervisor.watchParent();
  }

  private say(line: string) {
    this.options.log(line);
  }

  /** Stops everything this run started, newest first. Idempotent. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const undo of this.cleanups.splice(0).reverse()) await undo().catch((err: Error) => this.say(`cleanup: ${err.message}`));
      await this.supervisor.stopAll(5_000);
    })();
    return this.cleaning;
  }

  /** Runs the story; resolves to the report (whether the run passed is `report.ok`). */
  async run(): Promise<DemoReport> {
    const o = this.options;
    const t = this.timeline;
    if (!this.defs.length) throw new Error('the customers build registers no migrations: nothing to walk');
    this.say(`work dir (logs of every process): ${this.workDir}`);

    // 1. Backing services, and the previous release extracted from git history, side by side.
    const [services, blueRecipe, greenRecipe] = await t.stage('backing services up (FerretDB, Redis, Unleash); blue materialized from git', () =>
      Promise.all([this.startServices(), materializeRelease(SERVICE, 'v1', path.join(this.workDir, 'blue-release')), workingTreeRecipe(SERVICE)]),
    );
    const mongoSvc = services.mongo as NonNullable<Services['mongo']>;
    this.storePid = mongoSvc.source === 'local' ? mongoSvc.pid : undefined;
    const unleash = services.unleash as NonNullable<Services['unleash']>;
    this.say(`services: ${describeServices(services)}`);
    this.say(`blue: ${blueRecipe.description}; green: ${greenRecipe.description}`);
    const dbName = mongoSvc.source === 'local' ? 'customers' : `customers_demo_${Date.now().toString(36)}`;

    // The services reach Unleash through a proxy the demo can cut; the orchestrator talks to it directly.
    const unleashProxy = await new TcpProxy(hostPort(unleash.url)).open();
    this.cleanups.push(() => unleashProxy.cut());
    const admin = new UnleashFlagAdmin({ url: unleash.url, token: unleash.adminToken });
    await t.stage('flags reset to the oldest, safest path', async () => {
      for (const def of this.defs) for (const [flag, on] of Object.entries(flagsForPhase(def, 'pending'))) await admin.set(flag, on);
    });

    const client = new mongo.MongoClient(mongoSvc.url);
    await client.connect();
    this.cleanups.push(() => client.close());
    const db = client.db(dbName);

    // 2. Seed.
    const seeds = await t.stage(`seed ${o.docs.toLocaleString('en-US')} customers at v1`, () => seedCustomers({ db, collection: COLLECTION, count: o.docs }));
    if (/FerretDB/i.test(mongoSvc.description)) {
      this.notes.push(
        'FerretDB 1.x (SQLite) does not use its own _id index; a local FerretDB started by @zdm/dev-services gets one on the expression its queries use, ' +
          'and the migration library takes per-document write claims there because FerretDB does not apply an update\'s filter and write atomically.',
      );
    }

    // 3. Blue behind nginx.
    const instanceEnv: Record<string, string> = {
      MONGO_URL: mongoSvc.url,
      MONGO_DB: dbName,
      UNLEASH_URL: unleashProxy.url,
      UNLEASH_CLIENT_TOKEN: unleash.clientToken,
      UNLEASH_REFRESH_MS: '1000',
      HEARTBEAT_INTERVAL_MS: '1000',
      SHUTDOWN_DRAIN_MS: '3000',
      SHUTDOWN_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'warn',
    };
    const fleet = new CustomersFleet({ supervisor: this.supervisor, env: instanceEnv });
    const startColor = async (recipe: LaunchRecipe, color: 'blue' | 'green', from = 1) => {
      const started: CustomerInstance[] = [];
      for (let i = 0; i < o.instances; i++) started.push(fleet.start(recipe, color, `customers-${color}-${from + i}`, await freePort()));
      await Promise.all(started.map((x) => x.waitReady(120_000)));
      return started;
    };
    const blue = await t.stage(`blue x${o.instances} up (v1 only)`, () => startColor(blueRecipe, 'blue'));
    const lb = await t.stage(`nginx on ${o.host}:${o.port} in front of blue`, () =>
      NginxLoadBalancer.start({
        supervisor: this.supervisor,
        prefix: path.join(this.workDir, 'nginx'),
        host: o.host,
        port: o.port,
        servers: blue.map((b) => ({ host: '127.0.0.1', port: b.port })),
        note: 'blue',
      }),
    );
    this.cleanups.push(() => lb.stop());
    // Probed every second: readiness reads the control store, so probing costs the database too.
    const watcher = new EndpointWatcher(lb, { pollMs: 1_000, log: (l) => this.say(l) });
    await watcher.activate(blue, 'blue serves');
    watcher.start();
    this.cleanups.push(() => watcher.stop());
    this.say(`the customers API is served at ${lb.url} for the whole run`);

    // 4. Load.
    const load = await t.stage(`load generator at ${o.rps} req/s`, async () => LoadGenerator.start({ supervisor: this.supervisor, baseUrl: lb.url, rps: o.rps, seeds, env: this.nodeEnv() }));
    let loadResult: LoadResultMessage | null = null;
    this.cleanups.push(async () => loadResult ?? load.stop());
    const progress = setInterval(() => {
      const p = load.progress();
      if (p) this.say(`load: ${p.sent.toLocaleString('en-US')} sent, ${p.failed} failed, ${p.inFlight} in flight`);
    }, 15_000);
    this.cleanups.push(async () => clearInterval(progress));
    t.enterPhase(phaseLabel(this.defs, this.defs[0].id, 'pending'), this.defs[0].id);

    // The orchestrator: the core Orchestrator in this process for the phase changes, and the zdm CLI
    // in child processes (as an operator would run it) for the walks a fault may kill.
    // The throttle grows batches while they stay under the target latency and halves them above it;
    // a batch must also finish well within the lease (the runner renews it between batches).
    const zdm = this.zdmDriver(mongoSvc.url, dbName, unleash.url, unleash.adminToken, Math.min(200, Math.max(20, Math.ceil(o.docs / 20))));
    const orchestration = new InProcessOrchestration({ db, migrations: this.defs, flags: admin, minInstances: o.instances, actor: 'demo', onEvent: (e) => this.onZdmEvent(e) });

    // 5.-8. The migrations, within the walk deadline; the proof below runs either way.
    const walkDeadline = setTimeout(() => {
      this.incomplete = `the migrations did not complete within ${o.walkTimeoutMs / 1000} s (last phase: ${t.currentPhase ?? 'none'})`;
      this.say(`deadline: ${this.incomplete}; stopping the runners`);
      zdm.stopAll(this.incomplete);
      orchestration.abort();
    }, o.walkTimeoutMs);
    try {
      await this.migrate(zdm, orchestration, fleet, greenRecipe, blue, watcher, unleashProxy, db, startColor);
    } catch (err) {
      // Whatever stopped the walk (the deadline, an instance that never got ready, a refused gate),
      // the load still stops and the proof still runs: the report says what happened, in numbers.
      const message = err instanceof Error ? err.message : String(err);
      this.incomplete ??= `the migrations did not complete: ${message.split('\n')[0]}`;
      this.say(`walk stopped: ${message}`);
    } finally {
      clearTimeout(walkDeadline);
      zdm.unblock();
    }

    // 9. Stop the load, then the proof.
    loadResult = await t.stage('stop the load', () => load.stop());
    t.closePhase();
    this.say(`load: ${loadResult.log.status.length.toLocaleString('en-US')} requests, ${loadResult.log.status.filter(isFailure).length} failed`);
    const finalVersion = this.finalVersion();
    const back = await t.stage('read back every acknowledged write through the API', () =>
      // Every customer the load knows (the seed included) with its last acknowledged value.
      readBack(lb.url, (loadResult as LoadResultMessage).acked, { joinFullName }),
    );
    const census = await t.stage('count documents in the database', () =>
      documentCensus(db, COLLECTION, finalVersion, [...new Set(this.defs.flatMap((d) => d.removedFields ?? []))]),
    );
    const audit = await t.stage('read the audit log', () => this.auditSummary(orchestration));
    for (const f of this.faults) Object.assign(f, requestsDuring(loadResult, f));
    const access = summarizeAccessLog(readFileSync(lb.accessLog, 'utf8'));

    const report = buildReport({
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      options: { docs: o.docs, rps: o.rps, port: o.port, instances: o.instances },
      machine: { cpus: cpus().length, node: process.versions.node, platform: `${process.platform} ${process.arch}` },
      builds: { blue: { build: blueRecipe.build, description: blueRecipe.description }, green: { build: greenRecipe.build, description: greenRecipe.description } },
      services: describeServices(services),
      stages: t.stages,
      phases: t.phases,
      migrations: migrationRecords(this.defs, t.phases),
      load: loadResult,
      readBack: back,
      census,
      finalVersion,
      faults: this.faults,
      loadBalancer: { reloads: watcher.reloads, endpointEvents: watcher.events, retriedRequests: access.retried, upstreamErrors: access.upstreamErrors },
      audit,
      incomplete: this.incomplete,
      notes: this.notes,
    });
    this.writeReport(report, loadResult);
    return report;
  }

  /** Steps 5 to 8: expand and green, the switch, dual-write with Unleash cut, then every phase with faults. */
  private async migrate(
    zdm: ZdmDriver,
    orchestration: InProcessOrchestration,
    fleet: CustomersFleet,
    greenRecipe: LaunchRecipe,
    blue: CustomerInstance[],
    watcher: EndpointWatcher,
    unleashProxy: TcpProxy,
    db: mongo.Db,
    startColor: (recipe: LaunchRecipe, color: 'blue' | 'green') => Promise<CustomerInstance[]>,
  ): Promise<void> {
    const o = this.options;
    const t = this.timeline;
    const [first, ...rest] = this.defs;
    // 5. Expand: declare it, then deploy green (reads every version, writes v1 until the flags say otherwise).
    await t.stage(`advance ${first.id} (pending -> expand)`, () => orchestration.advance(first.id, 'green is being deployed: it reads every version and still writes v1'));
    const green = await t.stage(`green x${o.instances} up (reads v1..v${this.finalVersion()}, writes v1)`, () => startColor(greenRecipe, 'green'));

    // 6. The switch, then blue drains and stops.
    await t.stage('switch nginx to green (graceful reload)', async () => {
      await watcher.activate(green, 'switch to green');
      t.mark('nginx -> green');
    });
    await t.stage('drain and stop blue (SIGTERM)', async () => {
      const exits = await Promise.all(blue.map((b) => b.stop()));
      this.say(`blue exited: ${exits.map((e, i) => `${blue[i].name} code ${e.code} after ${e.ms} ms`).join(', ')}`);
      t.mark('blue stopped');
    });

    // 7. Dual-write, with Unleash unreachable for a while.
    await t.stage(`advance ${first.id} (expand -> dual-write)`, () => orchestration.advance(first.id, 'every live instance reads v2: turn dual-write on', 60_000));
    await t.stage(`Unleash unreachable for ${o.unleashOutageMs / 1000} s during dual-write`, () => this.unleashOutage(unleashProxy, db, green));

    // 8. The rest of the walk, with a green instance stopped and the runner killed mid-backfill.
    const serving = { green: [...green] };
    await t.stage(`zdm run ${first.id} (backfill with faults, verify, switch-reads, contract)`, () => this.walkWithFaults(zdm, first, fleet, greenRecipe, watcher, serving));
    for (const def of rest) {
      await t.stage(`zdm run ${def.id} (${strategyOf(def).kind})`, () => this.walk(zdm, def));
    }
  }

  /** Where the report files went. */
  get reportFiles(): { json: string; markdown: string; chart: string } {
    const dir = this.options.outDir;
    return { json: path.join(dir, 'latest.json'), markdown: path.join(dir, 'latest.md'), chart: path.join(dir, 'latest.svg') };
  }

  /** Removes the temp directory (logs) unless asked to keep it. */
  removeWorkDir(keep: boolean): void {
    if (keep || this.options.keepLogs) return;
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private finalVersion(): number {
    return Math.max(...this.defs.map((d) => d.to));
  }

  private async startServices(): Promise<Services> {
    const services = await startServices({ mongo: true, redis: true, unleash: true }, { log: (l) => this.say(`services: ${l}`) });
    this.cleanups.push(() => services.stop());
    return services;
  }

  /** Environment for Node children that run TypeScript (load generator). */
  private nodeEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env['PATH'], HOME: process.env['HOME'], SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json') };
  }

  private zdmDriver(mongoUrl: string, dbName: string, unleashUrl: string, adminToken: string, batchSize: number): ZdmDriver {
    const o = this.options;
    return new ZdmDriver({
      supervisor: this.supervisor,
      config: path.join(ROOT, 'apps', 'customers', 'zdm.config.ts'),
      env: { ...this.nodeEnv(), MONGO_URL: mongoUrl, MONGO_DB: dbName, UNLEASH_URL: unleashUrl, UNLEASH_ADMIN_TOKEN: adminToken },
      actor: 'demo',
      globals: ['--lease-ttl', String(o.leaseTtlMs), '--min-instances', String(o.instances), '--batch-size', String(batchSize), '--target-latency', '4000'],
      onEvent: (e) => this.onZdmEvent(e),
    });
  }

  private onZdmEvent(e: ZdmEvent) {
    const id = String(e['id'] ?? '');
    if (e.event === 'phase' && typeof e['to'] === 'string') {
      this.timeline.enterPhase(phaseLabel(this.defs, id, e['to']), id, e.at);
      this.say(`zdm: ${id} ${String(e['from'])} -> ${e['to']}`);
    } else if (e.event === 'waiting' || e.event === 'flags-waiting') {
      const what = (e['failingGates'] as { gate: string; detail: string }[] | undefined)?.map((g) => `${g.gate}: ${g.detail}`).join('; ') ?? JSON.stringify(e['lagging']);
      this.say(`zdm: ${id} waiting (${what})`);
    } else if (e.event === 'flags-seen') {
      this.say(`zdm: ${id} flags seen by ${(e['instances'] as string[]).join(', ')} after ${e['waitedMs']} ms`);
    } else if (e.event === 'job-start') {
      this.say(`zdm: ${id} ${String(e['job'])} started by ${String(e['owner'])}`);
    } else if (e.event === 'result' && e['ok'] === false) {
      this.say(`zdm: ${e['command']} failed (exit ${e['exitCode']}): ${String(e['error'] ?? e['message'] ?? '')}`);
    }
  }

  /** Walks one migration to complete with `zdm run`. */
  private async walk(zdm: ZdmDriver, def: MigrationDefinition): Promise<void> {
    await zdm.run(['run', def.id, '--poll', '0.5', '--timeout', '180'], `walk ${def.id} to complete`);
  }

  /**
   * Cuts the services' way to Unleash for `unleashOutageMs`, and checks every second that each
   * instance still reports the flags it had and is still ready (it keeps its last-known values).
   */
  private async unleashOutage(proxy: TcpProxy, db: mongo.Db, green: readonly CustomerInstance[]): Promise<void> {
    const store = createMongoControlStore(db);
    const flagsNow = async () => Object.fromEntries((await store.heartbeats.live()).map((hb) => [hb.instanceId, hb.flags]));
    const before = await flagsNow();
    const at = new Date().toISOString();
    await proxy.cut();
    this.timeline.mark('Unleash unreachable', at);
    let samples = 0;
    let changed = 0;
    let notReady = 0;
    const deadline = performance.now() + this.options.unleashOutageMs;
    while (performance.now() < deadline) {
      await sleep(1_000);
      const now = await flagsNow();
      samples++;
      for (const [instance, flags] of Object.entries(now)) if (before[instance] && JSON.stringify(flags) !== JSON.stringify(before[instance])) changed++;
      for (const g of green) if (!(await g.readiness()).ready) notReady++;
    }
    await proxy.open();
    const endedAt = new Date().toISOString();
    this.timeline.mark('Unleash back', endedAt);
    this.faults.push({
      kind: 'unleash-unreachable',
      at,
      endedAt,
      detail:
        `the services' connection to Unleash was cut for ${this.options.unleashOutageMs / 1000} s during dual-write; over ${samples} checks the instances kept the flags they had ` +
        `(${changed} heartbeat(s) showed other values) and stayed ready (${notReady} failed readiness probes)`,
      heartbeatFlagChanges: changed,
      failedReadinessProbes: notReady,
      flagsBefore: before,
    });
  }

  /**
   * `zdm run` for the first migration, with three faults during its backfill: at a quarter of the
   * way one green instance gets SIGTERM (and a replacement is started, as an orchestrator would),
   * past half-way the runner gets SIGKILL (the next `zdm run` waits for the dead runner's lease
   * to expire and resumes from the checkpoint), and past three quarters the store stalls.
   */
  private async walkWithFaults(
    zdm: ZdmDriver,
    def: MigrationDefinition,
    fleet: CustomersFleet,
    recipe: LaunchRecipe,
    watcher: EndpointWatcher,
    serving: { green: CustomerInstance[] },
  ): Promise<void> {
    let current: ZdmInvocation | null = null;
    let lastDone = 0;
    let killed: { at: string; done: number; total: number } | null = null;
    let resumed: { at: string; done: number } | null = null;
    let instanceFault: Promise<void> | null = null;
    let storeFault: Promise<void> | null = null;
    const onProgress = (e: ZdmEvent) => {
      if (e.event !== 'progress' || e['job'] !== 'backfill' || e['id'] !== def.id) return;
      const done = Number(e['done']);
      const total = Math.max(1, Number(e['total']));
      // The first batch after the restart: the checkpoint it resumed from is `done` minus that batch.
      const batch = Number(e['written'] ?? 0) + Number(e['skipped'] ?? 0) + Number(e['quarantined'] ?? 0);
      if (killed && !resumed) resumed = { at: e.at ?? new Date().toISOString(), done: done - batch };
      lastDone = done;
      if (done >= total) return;
      if (!instanceFault && done / total >= 0.25) instanceFault = this.stopOneInstance(fleet, recipe, watcher, serving);
      if (!storeFault && resumed && done / total >= 0.75) storeFault = this.stallStore(done, total);
      if (!killed && done / total >= 0.5 && current) {
        killed = { at: new Date().toISOString(), done, total };
        this.timeline.mark('runner SIGKILL', killed.at);
        this.say(`fault: SIGKILL to the backfill runner (${current.name}, pid ${current.proc.pid}) at ${done}/${total}`);
        current.proc.signal('SIGKILL');
      }
    };
    zdm.listen(onProgress);
    try {
      for (let attempt = 1; ; attempt++) {
        current = zdm.start(['run', def.id, '--poll', '0.5', '--timeout', '180'], attempt === 1 ? `walk ${def.id} to complete` : `resume ${def.id} after the runner was killed`);
        const outcome = await current.done;
        if (outcome.exitCode === 0) break;
        if (outcome.signal === 'SIGKILL' && killed && attempt === 1) continue;
        throw new Error(`zdm run ${def.id} exited ${outcome.exitCode ?? outcome.signal}: ${String(outcome.result?.['error'] ?? `see ${current.proc.logFile}`)}`);
      }
    } finally {
      zdm.unlisten(onProgress);
    }
    await instanceFault;
    await storeFault;
    if (!storeFault) this.notes.push(`the backfill finished (${lastDone} documents) before the store could be stalled past three quarters; raise --docs`);
    const k = killed as { at: string; done: number; total: number } | null;
    const r = resumed as { at: string; done: number } | null;
    if (k) {
      this.faults.push({
        kind: 'runner-killed',
        at: k.at,
        endedAt: r?.at,
        detail:
          `the backfill runner (a zdm run process) got SIGKILL at ${k.done.toLocaleString('en-US')}/${k.total.toLocaleString('en-US')} documents; ` +
          (r ? `the next zdm run waited for its lease to expire and resumed from the checkpoint at ${r.done.toLocaleString('en-US')}` : 'it finished without resuming a backfill'),
        killedAtDone: k.done,
        resumedFromCheckpoint: r?.done ?? null,
        total: k.total,
      });
    } else {
      this.notes.push(`the backfill finished (${lastDone} documents) before the runner could be killed mid-way; raise --docs`);
    }
  }

  /**
   * Freezes the store for `storeStallMs` (SIGSTOP, then SIGCONT), as a stalled disk or a paused VM
   * would: requests wait (their deadline is longer than the stall), none fails, and the backfill
   * carries on. Needs the store's process, i.e. a store the demo started itself.
   */
  private async stallStore(done: number, total: number): Promise<void> {
    const pid = this.storePid;
    if (pid === undefined) {
      this.notes.push('the store is not a process this run started (MONGO_URL), so it could not be stalled');
      return;
    }
    const ms = this.options.storeStallMs;
    const at = new Date().toISOString();
    this.timeline.mark(`store SIGSTOP ${ms / 1000} s`, at);
    this.say(`fault: SIGSTOP to the store (pid ${pid}) for ${ms / 1000} s at ${done}/${total}`);
    const thaw = async () => void process.kill(pid, 'SIGCONT');
    this.cleanups.push(thaw);
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      await thaw();
    }
    const endedAt = new Date().toISOString();
    this.timeline.mark('store SIGCONT', endedAt);
    this.faults.push({
      kind: 'store-stalled',
      at,
      endedAt,
      detail:
        `the store (pid ${pid}) was frozen with SIGSTOP for ${ms / 1000} s at ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} documents of the backfill, ` +
        `then resumed with SIGCONT; requests waited for it (their deadline is longer) and the backfill carried on`,
      stalledMs: Date.parse(endedAt) - Date.parse(at),
      atDone: done,
      total,
    });
  }

  /** SIGTERM to one green instance while it serves; nginx routes around it; a replacement takes its place. */
  private async stopOneInstance(fleet: CustomersFleet, recipe: LaunchRecipe, watcher: EndpointWatcher, serving: { green: CustomerInstance[] }): Promise<void> {
    const victim = serving.green[serving.green.length - 1];
    const at = new Date().toISOString();
    this.timeline.mark(`SIGTERM ${victim.name}`, at);
    this.say(`fault: SIGTERM to ${victim.name} while it serves`);
    const exit = await victim.stop();
    const removed = watcher.events.find((e) => e.instance === victim.name && e.action === 'removed' && e.at.toISOString() >= at);
    const replacement = fleet.start(recipe, 'green', `customers-green-${serving.green.length + 1}`, await freePort());
    watcher.add(replacement);
    await replacement.waitReady(120_000);
    const deadline = performance.now() + 10_000;
    while (!watcher.serving().includes(replacement) && performance.now() < deadline) await sleep(100);
    serving.green = [...serving.green.filter((g) => g !== victim), replacement];
    const endedAt = new Date().toISOString();
    this.timeline.mark(`${replacement.name} serving`, endedAt);
    this.faults.push({
      kind: 'instance-stopped',
      at,
      endedAt,
      detail:
        `${victim.name} got SIGTERM mid-backfill: readiness turned 503, the load balancer took it out after ` +
        `${removed ? Date.parse(removed.at.toISOString()) - Date.parse(at) : '?'} ms, it drained and exited with code ${exit.code} after ${exit.ms} ms; ` +
        `${replacement.name} replaced it`,
      instance: victim.name,
      removedAfterMs: removed ? Date.parse(removed.at.toISOString()) - Date.parse(at) : null,
      exitCode: exit.code,
      exitAfterMs: exit.ms,
      replacement: replacement.name,
    });
  }

  private async auditSummary(orchestration: InProcessOrchestration): Promise<{ entries: number; byAction: Record<string, number> }> {
    const byAction: Record<string, number> = {};
    let entries = 0;
    for (const def of this.defs) {
      for (const e of await orchestration.audit(def.id)) {
        entries++;
        byAction[e.action] = (byAction[e.action] ?? 0) + 1;
      }
    }
    return { entries, byAction };
  }

  private writeReport(report: DemoReport, load: LoadResultMessage) {
    writeReportFiles(this.reportFiles, report, load, this.timeline.markers);
  }
}

/** The report's record of each migration: its strategy, versions and the phases it went through. */
export function migrationRecords(defs: readonly MigrationDefinition[], phases: Timeline['phases']): MigrationRecord[] {
  return defs.map((d) => ({
    id: d.id,
    strategy: JSON.stringify(strategyOf(d)),
    from: d.from,
    to: d.to,
    removedFields: [...(d.removedFields ?? [])],
    phases: phases.filter((p) => p.migration === d.id),
  }));
}

/** Entries of every migration's audit log (`zdm audit`), counted by action. */
export async function auditSummary(zdm: ZdmDriver, defs: readonly MigrationDefinition[], reason: string): Promise<{ entries: number; byAction: Record<string, number> }> {
  const byAction: Record<string, number> = {};
  let entries = 0;
  for (const def of defs) {
    const result = await zdm.run(['audit', def.id, '--limit', '100000'], reason);
    for (const e of result['entries'] as { action: string }[]) {
      entries++;
      byAction[e.action] = (byAction[e.action] ?? 0) + 1;
    }
  }
  return { entries, byAction };
}

/** Writes the report as JSON, as a Markdown summary and as a chart (the same three files for every run of the story). */
export function writeReportFiles(files: { json: string; markdown: string; chart: string }, report: DemoReport, load: LoadResultMessage, markers: Timeline['markers']): void {
  mkdirSync(path.dirname(files.json), { recursive: true });
  writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(files.markdown, renderSummary(report, path.basename(files.chart)));
  const verdict = report.ok ? 'zero failed requests, zero lost writes' : report.failures.join('; ');
  writeFileSync(
    files.chart,
    renderChart({
      title: `customers: blue-green migration under ${report.options.rps} req/s (${report.ok ? 'passed' : 'FAILED'})`,
      subtitle: `${report.requests.total.toLocaleString('en-US')} requests, p99 ${report.latencyMs.p99} ms; ${verdict}`,
      // The last second is cut short by the stop of the load: it would draw a drop that did not happen.
      seconds: report.perSecond.slice(0, -1),
      startedAt: load.startedAt,
      phases: report.phases,
      markers,
    }),
  );
}

/** Requests that started while a fault lasted, and how many of them failed. */
export function requestsDuring(load: LoadResultMessage, f: FaultRecord): { requestsDuring: number; failedDuring: number } {
  const from = Date.parse(f.at) - load.startedAt;
  const to = Date.parse(f.endedAt ?? f.at) - load.startedAt;
  let requests = 0;
  let failed = 0;
  load.log.startMs.forEach((ms, i) => {
    if (ms < from || ms > to) return;
    requests++;
    if (isFailure(load.log.status[i])) failed++;
  });
  return { requestsDuring: requests, failedDuring: failed };
}
