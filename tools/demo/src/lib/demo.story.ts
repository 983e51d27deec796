import { TcpProxy, startServices, describeServices, type Services } from '@zdm/dev-services';
import { MigrationDefinition, flagsForPhase, strategyOf } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { UnleashFlagAdmin } from '@zdm/migrations-nest';
import { mongo } from 'mongoose';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { renderChart } from './chart.svg';
import { EndpointWatcher } from './endpoint.watcher';
import { LoadGenerator } from './load-generator';
import { RequestMix, isFailure } from './load.model';
import type { LoadResultMessage, ServiceLoadSpec } from './load.protocol';
import { NginxLoadBalancer, summarizeAccessLog } from './nginx.load-balancer';
import { InProcessOrchestration } from './orchestration';
import { freePort, sleep } from './os.util';
import { ProcessSupervisor } from './process-supervisor';
import { serviceProof } from './proof';
import { DemoReport, FaultRecord, QuarantineRecord, ServiceFacts, buildReport, renderSummary } from './report';
import { ServiceFleet, ServiceInstance, LaunchRecipe, ROOT, compileBuild, compiledRecipe, materializeRelease, workingTreeRecipe } from './service.fleet';
import { DemoService, finalVersionOf, zdmConfigOf } from './services/demo.service';
import type { AuthLoadSpec } from './services/load.sessions';
import { Timeline } from './timeline';
import { fixedQuarantine, walkFixingQuarantine } from './walk';
import { ZdmDriver, ZdmEvent, ZdmInvocation } from './zdm.driver';

/** Options of {@link DemoRun}. */
export interface DemoOptions {
  /** The services, in the order they are seeded and deployed (a service may need the ones before it). */
  services: readonly DemoService[];
  /** Documents seeded at v1, per service. */
  docs: Record<string, number>;
  /** Requests per second of the load, every service together. */
  rps: number;
  /** Where the load balancer listens. */
  host: string;
  port: number;
  /** Instances of blue and of green, per service. */
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

/** Host and port of a URL. */
function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** One service of the run: what was started for it and what its migrations found. */
interface Deployment {
  spec: DemoService;
  db: mongo.Db;
  blueRecipe: LaunchRecipe;
  greenRecipe: LaunchRecipe;
  fleet: ServiceFleet;
  blue: ServiceInstance[];
  /** Green instances serving now (a fault replaces one). */
  green: ServiceInstance[];
  watcher: EndpointWatcher;
  zdm: ZdmDriver;
  orchestration: InProcessOrchestration;
  load: ServiceLoadSpec;
  quarantine: QuarantineRecord;
}

/** Users the load keeps logged in (each write is sent with one of their tokens). */
export const LOAD_USERS = 8;

/** Where and as whom the load logs in: at the service that issues tokens, if one is in the run. */
export function loadSessionsOf(services: readonly DemoService[]): AuthLoadSpec | undefined {
  const issuer = services.find((s) => s.issuesTokens);
  return issuer?.issuesTokens && { service: issuer.name, path: issuer.issuesTokens.path, users: LOAD_USERS, runId: Date.now().toString(36) };
}

/** The traffic the load generator drives: each service with requests in the mix, with its seeds (the auth hub's traffic is the load's own logins). */
export function loadSpecsOf(services: readonly DemoService[], seeded: Record<string, ServiceLoadSpec>): ServiceLoadSpec[] {
  return services.filter((s) => Object.keys(s.mix).length).map((s) => seeded[s.name]);
}

/** The load's request mix: every service's own weights side by side. */
export function mixOf(services: readonly DemoService[]): RequestMix {
  return Object.assign({}, ...services.map((s) => s.mix)) as RequestMix;
}

/**
 * The whole story of `npm run demo`, start to end: backing services, seed, every service's blue
 * behind nginx, load, green, the switch, the migrations walked by the `zdm` CLI with faults
 * injected (the services side by side), and the proof, per service. Every process it starts is
 * stopped by {@link DemoRun.cleanup}, which main.ts also calls on Ctrl-C.
 */
export class DemoRun {
  readonly timeline: Timeline;
  readonly workDir = mkdtempSync(path.join(tmpdir(), 'zdm-demo-'));
  private readonly supervisor = new ProcessSupervisor(this.workDir);
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private readonly faults: FaultRecord[] = [];
  private readonly notes: string[] = [];
  private cleaning: Promise<void> | null = null;
  /** Set when the walk deadline stopped the migrations. */
  private incomplete: string | null = null;
  private readonly startedAt = new Date().toISOString();
  /** The store's process, when the demo started it (the store-stall fault freezes it). */
  private storePid: number | undefined;
  /** Where the zdm CLI and every service's zdm config are compiled to. */
  private readonly zdmBuild = path.join(this.workDir, 'zdm-build');
  /** The store-stall fault, once one walk started it (the store is shared: it stalls once for every service). */
  private storeFault: Promise<void> | null = null;

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
    if (!o.services.some((s) => s.migrations.length)) throw new Error(`no build of ${o.services.map((s) => s.name).join(', ')} registers a migration: nothing to walk`);
    const names = o.services.map((s) => s.name).join(', ');
    this.say(`work dir (logs of every process): ${this.workDir}`);

    // 1. Backing services, and each service's previous release extracted from git history, side by side.
    const [services, ...built] = await t.stage(`backing services up (FerretDB, Redis, Unleash); blue of ${names} materialized from git; every build compiled`, () =>
      Promise.all([
        this.startServices(),
        ...o.services.map(async (s) => {
          const blue = await materializeRelease(s.name, 'v1', path.join(this.workDir, `${s.name}-blue-release`));
          return [
            await compiledRecipe(blue, s.name, path.join(this.workDir, `${s.name}-blue-build`)),
            await compiledRecipe(await workingTreeRecipe(s.name), s.name, path.join(this.workDir, `${s.name}-green-build`)),
          ] as const;
        }),
        compileBuild(ROOT, ['apps/zdm/src/main.ts', ...o.services.map((s) => path.relative(ROOT, zdmConfigOf(s.name)))], this.zdmBuild),
      ]),
    );
    const recipes = built.slice(0, o.services.length) as (readonly [LaunchRecipe, LaunchRecipe])[];
    const mongoSvc = services.mongo as NonNullable<Services['mongo']>;
    this.storePid = mongoSvc.source === 'local' ? mongoSvc.pid : undefined;
    const unleash = services.unleash as NonNullable<Services['unleash']>;
    const redisSvc = services.redis as NonNullable<Services['redis']>;
    this.say(`services: ${describeServices(services)}`);
    for (const [i, s] of o.services.entries()) this.say(`${s.name}: blue = ${recipes[i][0].description}; green = ${recipes[i][1].description}`);
    const suffix = mongoSvc.source === 'local' ? '' : `_demo_${Date.now().toString(36)}`;

    // The services reach Unleash through a proxy the demo can cut; the orchestrator talks to it directly.
    const unleashProxy = await new TcpProxy(hostPort(unleash.url)).open();
    this.cleanups.push(() => unleashProxy.cut());
    const admin = new UnleashFlagAdmin({ url: unleash.url, token: unleash.adminToken });
    await t.stage('flags reset to the oldest, safest path', async () => {
      for (const s of o.services) for (const def of s.migrations) for (const [flag, on] of Object.entries(flagsForPhase(def, 'pending'))) await admin.set(flag, on);
    });

    const client = new mongo.MongoClient(mongoSvc.url);
    await client.connect();
    this.cleanups.push(() => client.close());

    // 2. Seed, each service in its own database, in order (orders are placed for seeded customers).
    const seeded: Record<string, ServiceLoadSpec> = {};
    for (const s of o.services) {
      const count = o.docs[s.name] ?? 0;
      seeded[s.name] = await t.stage(`seed ${count.toLocaleString('en-US')} ${s.name} at v1`, () => s.seed(client.db(`${s.name}${suffix}`), count, { seeded }));
    }
    if (/FerretDB/i.test(mongoSvc.description)) {
      this.notes.push(
        'FerretDB 1.x (SQLite) does not use its own _id index; a local FerretDB started by @zdm/dev-services gets one on the expression its queries use, ' +
          'and the migration library takes per-document write claims there because FerretDB does not apply an update\'s filter and write atomically.',
      );
    }

    // 3. Every service's blue, then nginx in front of them.
    const commonEnv: Record<string, string> = {
      MONGO_URL: mongoSvc.url,
      UNLEASH_URL: unleashProxy.url,
      UNLEASH_CLIENT_TOKEN: unleash.clientToken,
      UNLEASH_REFRESH_MS: '1000',
      HEARTBEAT_INTERVAL_MS: '1000',
      SHUTDOWN_DRAIN_MS: '3000',
      SHUTDOWN_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'warn',
    };
    const lbUrl = `http://${o.host}:${o.port}`;
    const batchSize = (s: DemoService) => Math.min(200, Math.max(20, Math.ceil((o.docs[s.name] ?? 0) / 20)));
    const deployments: Deployment[] = o.services.map((spec, i) => {
      const db = client.db(`${spec.name}${suffix}`);
      const env = { ...commonEnv, MONGO_DB: db.databaseName, ...spec.env?.({ lbUrl, redisUrl: redisSvc.url, workDir: this.workDir }) };
      const fleet = new ServiceFleet({ service: spec.name, supervisor: this.supervisor, env });
      return {
        spec,
        db,
        blueRecipe: recipes[i][0],
        greenRecipe: recipes[i][1],
        fleet,
        blue: [],
        green: [],
        watcher: null as unknown as EndpointWatcher,
        // The throttle grows batches while they stay under the target latency and halves them above it;
        // a batch must also finish well within the lease (the runner renews it between batches).
        zdm: this.zdmDriver(spec, mongoSvc.url, db.databaseName, unleash.url, unleash.adminToken, batchSize(spec)),
        orchestration: new InProcessOrchestration({ db, migrations: spec.migrations, flags: admin, minInstances: o.instances, actor: 'demo', onEvent: (e) => this.onZdmEvent(e) }),
        load: seeded[spec.name],
        quarantine: { found: 0, fixed: 0, open: 0, reasons: {} },
      };
    });
    for (const d of deployments) d.blue = await t.stage(`${d.spec.name} blue x${o.instances} up (v1 only)`, () => this.startColor(d, d.blueRecipe, 'blue'));
    const lb = await t.stage(`nginx on ${o.host}:${o.port} in front of blue`, () =>
      NginxLoadBalancer.start({
        supervisor: this.supervisor,
        prefix: path.join(this.workDir, 'nginx'),
        host: o.host,
        port: o.port,
        upstreams: Object.fromEntries(deployments.map((d) => [d.spec.name, d.blue.map((b) => ({ host: '127.0.0.1', port: b.port }))])),
        note: 'blue',
      }),
    );
    this.cleanups.push(() => lb.stop());
    for (const d of deployments) {
      // Probed every second: readiness reads the control store, so probing costs the database too.
      d.watcher = new EndpointWatcher(lb.upstream(d.spec.name), { pollMs: 1_000, log: (l) => this.say(`${d.spec.name} ${l}`) });
      await d.watcher.activate(d.blue, 'blue serves');
      d.watcher.start();
      this.cleanups.push(() => d.watcher.stop());
    }
    this.say(`the APIs of ${names} are served at ${lb.url} for the whole run`);

    // 4. Load.
    const load = await t.stage(`load generator at ${o.rps} req/s`, async () =>
      LoadGenerator.start({
        supervisor: this.supervisor,
        baseUrl: lb.url,
        rps: o.rps,
        mix: mixOf(o.services),
        services: loadSpecsOf(o.services, seeded),
        env: this.nodeEnv(),
        auth: loadSessionsOf(o.services),
      }),
    );
    let loadResult: LoadResultMessage | null = null;
    this.cleanups.push(async () => loadResult ?? load.stop());
    const progress = setInterval(() => {
      const p = load.progress();
      if (p) this.say(`load: ${p.sent.toLocaleString('en-US')} sent, ${p.failed} failed, ${p.inFlight} in flight`);
    }, 15_000);
    this.cleanups.push(async () => clearInterval(progress));
    for (const d of deployments) if (d.spec.migrations.length) t.enterPhase(d.spec.migrations[0].id, 'pending');

    // 5.-8. The migrations, within the walk deadline; the proof below runs either way.
    const walkDeadline = setTimeout(() => {
      this.incomplete = `the migrations did not complete within ${o.walkTimeoutMs / 1000} s (open phases: ${t.currentPhases.join(', ') || 'none'})`;
      this.say(`deadline: ${this.incomplete}; stopping the runners`);
      for (const d of deployments) {
        d.zdm.stopAll(this.incomplete);
        d.orchestration.abort();
      }
    }, o.walkTimeoutMs);
    try {
      await this.migrate(deployments, unleashProxy);
    } catch (err) {
      // Whatever stopped the walk (the deadline, an instance that never got ready, a refused gate),
      // the load still stops and the proof still runs: the report says what happened, in numbers.
      const message = err instanceof Error ? err.message : String(err);
      this.incomplete ??= `the migrations did not complete: ${message.split('\n')[0]}`;
      this.say(`walk stopped: ${message}`);
    } finally {
      clearTimeout(walkDeadline);
      for (const d of deployments) d.zdm.unblock();
    }

    // 9. Stop the load, then the proof, per service.
    loadResult = await t.stage('stop the load', () => load.stop());
    t.closePhase();
    this.say(`load: ${loadResult.log.status.length.toLocaleString('en-US')} requests, ${loadResult.log.status.filter(isFailure).length} failed`);
    const facts: ServiceFacts[] = [];
    for (const d of deployments) {
      const builds = { blue: { build: d.blueRecipe.build, description: d.blueRecipe.description }, green: { build: d.greenRecipe.build, description: d.greenRecipe.description } };
      facts.push(await serviceProof(d.spec, { db: d.db, lbUrl: lb.url, load: loadResult, timeline: t, builds, quarantine: d.quarantine }));
    }
    const audit = await t.stage('read the audit log', () => auditSummary(deployments.map((d) => d.orchestration)));
    for (const f of this.faults) Object.assign(f, requestsDuring(loadResult, f));
    const access = summarizeAccessLog(readFileSync(lb.accessLog, 'utf8'));

    const report = buildReport({
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      options: { ...Object.fromEntries(Object.entries(o.docs).map(([s, c]) => [`docs.${s}`, c])), docs: o.services.map((s) => o.docs[s.name]).find((c) => c !== undefined) ?? 0, rps: o.rps, port: o.port, instances: o.instances },
      machine: { cpus: cpus().length, node: process.versions.node, platform: `${process.platform} ${process.arch}` },
      backing: describeServices(services),
      stages: t.stages,
      services: facts,
      load: loadResult,
      faults: this.faults,
      loadBalancer: {
        reloads: deployments.reduce((sum, d) => sum + d.watcher.reloads, 0),
        endpointEvents: deployments.flatMap((d) => d.watcher.events).sort((a, b) => a.at.getTime() - b.at.getTime()),
        retriedRequests: access.retried,
        upstreamErrors: access.upstreamErrors,
      },
      audit,
      incomplete: this.incomplete,
      notes: this.notes,
    });
    writeReportFiles(this.reportFiles, report, loadResult, t);
    return report;
  }

  /**
   * Starts `instances` of one color of a service, one after the other, each once the previous one
   * is ready: a Node service compiling its TypeScript at start takes a core for seconds, and
   * starting them all at once under load slowed the instances serving to 5 s deadlines.
   */
  private async startColor(d: Deployment, recipe: LaunchRecipe, color: 'blue' | 'green', from = 1): Promise<ServiceInstance[]> {
    const started: ServiceInstance[] = [];
    for (let i = 0; i < this.options.instances; i++) {
      const instance = d.fleet.start(recipe, color, `${d.spec.name}-${color}-${from + i}`, await freePort());
      started.push(instance);
      await instance.waitReady(120_000);
    }
    return started;
  }

  /**
   * Steps 5 to 8, every service side by side: expand and green, the switch, dual-write with
   * Unleash cut, then each service's walk with faults. A service with no migration in its green
   * build is only deployed and switched.
   */
  private async migrate(deployments: Deployment[], unleashProxy: TcpProxy): Promise<void> {
    const o = this.options;
    const t = this.timeline;
    // Every service's work runs to its end even when another's fails (so the report shows how far
    // each got); the first failure is then rethrown.
    const migrating = async (work: (d: Deployment) => Promise<unknown>) => {
      const outcomes = await Promise.allSettled(deployments.filter((d) => d.spec.migrations.length).map(work));
      const failed = outcomes.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
    };
    // 5.-6. Service by service (so that at most one service runs two colors at a time): expand
    // declared, green deployed (reads every version, writes v1 until the flags say otherwise), the
    // switch, then blue drains and stops.
    for (const d of deployments) {
      const first = d.spec.migrations[0];
      if (first) await t.stage(`advance ${first.id} (pending -> expand)`, () => d.orchestration.advance(first.id, 'green is being deployed: it reads every version and still writes v1'));
      d.green = await t.stage(`${d.spec.name} green x${o.instances} up (reads v1..v${finalVersionOf(d.spec)}, writes v1)`, () => this.startColor(d, d.greenRecipe, 'green'));
      await t.stage(`switch ${d.spec.name} to green (graceful nginx reload)`, async () => {
        await d.watcher.activate(d.green, 'switch to green');
        t.mark(`${d.spec.name} -> green`);
      });
      await t.stage(`drain and stop ${d.spec.name} blue (SIGTERM)`, async () => {
        const exits = await Promise.all(d.blue.map((b) => b.stop()));
        this.say(`${d.spec.name} blue exited: ${exits.map((e, i) => `${d.blue[i].name} code ${e.code} after ${e.ms} ms`).join(', ')}`);
        t.mark(`${d.spec.name} blue stopped`);
      });
    }

    // 7. Dual-write, with Unleash unreachable for a while.
    await migrating((d) => {
      const first = d.spec.migrations[0];
      return t.stage(`advance ${first.id} (expand -> dual-write)`, () => d.orchestration.advance(first.id, `every live instance reads v${first.to}: turn dual-write on`, 60_000));
    });
    await t.stage(`Unleash unreachable for ${o.unleashOutageMs / 1000} s during dual-write`, () => this.unleashOutage(unleashProxy, deployments));

    // 8. The rest of each service's walk, with a green instance stopped and the runner killed mid-backfill.
    await migrating(async (d) => {
      const [first, ...rest] = d.spec.migrations;
      await t.stage(`zdm run ${first.id} (backfill with faults, verify, switch-reads, contract)`, () => this.walkWithFaults(d, first));
      for (const def of rest) await t.stage(`zdm run ${def.id} (${strategyOf(def).kind})`, () => this.walk(d, def));
    });
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

  private async startServices(): Promise<Services> {
    const services = await startServices({ mongo: true, redis: true, unleash: true }, { log: (l) => this.say(`services: ${l}`) });
    this.cleanups.push(() => services.stop());
    return services;
  }

  /** Environment for Node children that run TypeScript (load generator). */
  private nodeEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env['PATH'], HOME: process.env['HOME'], SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json') };
  }

  private zdmDriver(s: DemoService, mongoUrl: string, dbName: string, unleashUrl: string, adminToken: string, batchSize: number): ZdmDriver {
    const o = this.options;
    return new ZdmDriver({
      supervisor: this.supervisor,
      // The CLI and the service's config, compiled once (compileBuild in run()).
      config: path.join(this.zdmBuild, 'apps', s.name, 'zdm.config.js'),
      env: { ...this.nodeEnv(), MONGO_URL: mongoUrl, MONGO_DB: dbName, UNLEASH_URL: unleashUrl, UNLEASH_ADMIN_TOKEN: adminToken },
      actor: 'demo',
      name: s.name,
      launch: () => ({ command: process.execPath, args: [path.join(this.zdmBuild, 'apps', 'zdm', 'src', 'main.js')] }),
      globals: ['--lease-ttl', String(o.leaseTtlMs), '--min-instances', String(o.instances), '--batch-size', String(batchSize), '--target-latency', '4000'],
      onEvent: (e) => this.onZdmEvent(e),
    });
  }

  private onZdmEvent(e: ZdmEvent) {
    const id = String(e['id'] ?? '');
    if (e.event === 'phase' && typeof e['to'] === 'string') {
      this.timeline.enterPhase(id, e['to'], e.at);
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

  /** Walks one migration to complete with `zdm run` (through the quarantine fix path if needed). */
  private async walk(d: Deployment, def: MigrationDefinition): Promise<void> {
    await walkFixingQuarantine(d.zdm, d.spec, def, d.quarantine, { db: d.db, log: (l) => this.say(`${d.spec.name}: ${l}`), timeoutSec: 180 });
  }

  /**
   * Cuts the services' way to Unleash for `unleashOutageMs`, and checks every second that each
   * instance still reports the flags it had and is still ready (it keeps its last-known values).
   */
  private async unleashOutage(proxy: TcpProxy, deployments: Deployment[]): Promise<void> {
    const stores = deployments.map((d) => createMongoControlStore(d.db));
    const flagsNow = async () => Object.fromEntries((await Promise.all(stores.map((s) => s.heartbeats.live()))).flat().map((hb) => [hb.instanceId, hb.flags]));
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
      for (const g of deployments.flatMap((d) => d.green)) if (!(await g.readiness()).ready) notReady++;
    }
    await proxy.open();
    const endedAt = new Date().toISOString();
    this.timeline.mark('Unleash back', endedAt);
    this.faults.push({
      kind: 'unleash-unreachable',
      at,
      endedAt,
      detail:
        `the connection of every ${deployments.map((d) => d.spec.name).join(' and ')} instance to Unleash was cut for ${this.options.unleashOutageMs / 1000} s during dual-write; ` +
        `over ${samples} checks the instances kept the flags they had (${changed} heartbeat(s) showed other values) and stayed ready (${notReady} failed readiness probes)`,
      heartbeatFlagChanges: changed,
      failedReadinessProbes: notReady,
      flagsBefore: before,
    });
  }

  /**
   * `zdm run` for a service's first migration, with faults during its backfill: at a quarter of the
   * way one green instance gets SIGTERM (and a replacement is started, as an orchestrator would),
   * past half-way the runner gets SIGKILL (the next `zdm run` waits for the dead runner's lease
   * to expire and resumes from the checkpoint), and past three quarters the store stalls (once,
   * for whichever service gets there first: the services share it). A run that stops on
   * quarantined documents (exit 6) goes through the service's fix path, then resumes.
   */
  private async walkWithFaults(d: Deployment, def: MigrationDefinition): Promise<void> {
    const zdm = d.zdm;
    let current: ZdmInvocation | null = null;
    let lastDone = 0;
    let killed: { at: string; done: number; total: number } | null = null;
    let resumed: { at: string; done: number } | null = null;
    let instanceFault: Promise<void> | null = null;
    const onProgress = (e: ZdmEvent) => {
      if (e.event !== 'progress' || e['job'] !== 'backfill' || e['id'] !== def.id) return;
      const done = Number(e['done']);
      const total = Math.max(1, Number(e['total']));
      // The first batch after the restart: the checkpoint it resumed from is `done` minus that batch.
      const batch = Number(e['written'] ?? 0) + Number(e['skipped'] ?? 0) + Number(e['quarantined'] ?? 0);
      if (killed && !resumed) resumed = { at: e.at ?? new Date().toISOString(), done: done - batch };
      lastDone = done;
      if (done >= total) return;
      if (!instanceFault && done / total >= 0.25) instanceFault = this.stopOneInstance(d);
      if (!this.storeFault && resumed && done / total >= 0.75) this.storeFault = this.stallStore(def.id, done, total);
      if (!killed && done / total >= 0.5 && current) {
        killed = { at: new Date().toISOString(), done, total };
        this.timeline.mark(`${d.spec.name} runner SIGKILL`, killed.at);
        this.say(`fault: SIGKILL to the ${def.id} backfill runner (${current.name}, pid ${current.proc.pid}) at ${done}/${total}`);
        current.proc.signal('SIGKILL');
      }
    };
    zdm.listen(onProgress);
    try {
      for (let attempt = 1; ; attempt++) {
        const label = attempt === 1 ? `walk ${def.id} to complete` : `resume ${def.id}`;
        current = zdm.start(['run', def.id, '--poll', '0.5', '--timeout', '180'], label);
        const outcome = await current.done;
        if (outcome.exitCode === 0) break;
        if (outcome.signal === 'SIGKILL' && killed && attempt === 1) continue;
        if (attempt < 6 && (await fixedQuarantine(outcome, d.spec, def, zdm, d.quarantine, { db: d.db, log: (l) => this.say(`${d.spec.name}: ${l}`) }))) continue;
        throw new Error(`zdm run ${def.id} exited ${outcome.exitCode ?? outcome.signal}: ${String(outcome.result?.['error'] ?? `see ${current.proc.logFile}`)}`);
      }
    } finally {
      zdm.unlisten(onProgress);
    }
    await instanceFault;
    if (this.storeFault) await this.storeFault;
    const k = killed as { at: string; done: number; total: number } | null;
    const r = resumed as { at: string; done: number } | null;
    if (k) {
      this.faults.push({
        kind: 'runner-killed',
        service: d.spec.name,
        at: k.at,
        endedAt: r?.at,
        detail:
          `the ${def.id} backfill runner (a zdm run process) got SIGKILL at ${k.done.toLocaleString('en-US')}/${k.total.toLocaleString('en-US')} documents; ` +
          (r ? `the next zdm run waited for its lease to expire and resumed from the checkpoint at ${r.done.toLocaleString('en-US')}` : 'it finished without resuming a backfill'),
        killedAtDone: k.done,
        resumedFromCheckpoint: r?.done ?? null,
        total: k.total,
      });
    } else {
      this.notes.push(`${def.id}: the backfill finished (${lastDone} documents) before the runner could be killed mid-way; raise its seed size`);
    }
  }

  /**
   * Freezes the store for `storeStallMs` (SIGSTOP, then SIGCONT), as a stalled disk or a paused VM
   * would: requests wait (their deadline is longer than the stall), none fails, and the backfill
   * carries on. Needs the store's process, i.e. a store the demo started itself.
   */
  private async stallStore(id: string, done: number, total: number): Promise<void> {
    const pid = this.storePid;
    if (pid === undefined) {
      this.notes.push('the store is not a process this run started (MONGO_URL), so it could not be stalled');
      return;
    }
    const ms = this.options.storeStallMs;
    const at = new Date().toISOString();
    this.timeline.mark(`store SIGSTOP ${ms / 1000} s`, at);
    this.say(`fault: SIGSTOP to the store (pid ${pid}) for ${ms / 1000} s at ${done}/${total} of the ${id} backfill`);
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
        `the store (pid ${pid}, every service's database) was frozen with SIGSTOP for ${ms / 1000} s at ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} documents of the ${id} backfill, ` +
        `then resumed with SIGCONT; requests waited for it (their deadline is longer) and the backfills carried on`,
      stalledMs: Date.parse(endedAt) - Date.parse(at),
      atDone: done,
      total,
    });
  }

  /** SIGTERM to one green instance of a service while it serves; nginx routes around it; a replacement takes its place. */
  private async stopOneInstance(d: Deployment): Promise<void> {
    const victim = d.green[d.green.length - 1];
    const at = new Date().toISOString();
    this.timeline.mark(`SIGTERM ${victim.name}`, at);
    this.say(`fault: SIGTERM to ${victim.name} while it serves`);
    const exit = await victim.stop();
    const removed = d.watcher.events.find((e) => e.instance === victim.name && e.action === 'removed' && e.at.toISOString() >= at);
    const replacement = d.fleet.start(d.greenRecipe, 'green', `${d.spec.name}-green-${d.green.length + 1}`, await freePort());
    d.watcher.add(replacement);
    await replacement.waitReady(120_000);
    const deadline = performance.now() + 10_000;
    while (!d.watcher.serving().includes(replacement) && performance.now() < deadline) await sleep(100);
    d.green = [...d.green.filter((g) => g !== victim), replacement];
    const endedAt = new Date().toISOString();
    this.timeline.mark(`${replacement.name} serving`, endedAt);
    this.faults.push({
      kind: 'instance-stopped',
      service: d.spec.name,
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
}

/** Something that can list a migration's audit log: the in-process orchestrator, or `zdm audit` (see {@link zdmAudit}). */
export interface AuditSource {
  migrations: readonly string[];
  audit(id: string): Promise<{ action: string }[]>;
}

/** Entries of every migration's audit log, counted by action. */
export async function auditSummary(sources: readonly AuditSource[]): Promise<{ entries: number; byAction: Record<string, number> }> {
  const byAction: Record<string, number> = {};
  let entries = 0;
  for (const source of sources) {
    for (const id of source.migrations) {
      for (const e of await source.audit(id)) {
        entries++;
        byAction[e.action] = (byAction[e.action] ?? 0) + 1;
      }
    }
  }
  return { entries, byAction };
}

/** A service's audit log read with `zdm audit` (the compose story, where the store is in a container). */
export function zdmAudit(zdm: ZdmDriver, defs: readonly MigrationDefinition[], reason: string): AuditSource {
  return {
    migrations: defs.map((d) => d.id),
    audit: async (id) => (await zdm.run(['audit', id, '--limit', '100000'], reason))['entries'] as { action: string }[],
  };
}

/** Writes the report as JSON, as a Markdown summary and as a chart (the same three files for every run of the story). */
export function writeReportFiles(files: { json: string; markdown: string; chart: string }, report: DemoReport, load: LoadResultMessage, timeline: Timeline): void {
  mkdirSync(path.dirname(files.json), { recursive: true });
  writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(files.markdown, renderSummary(report, path.basename(files.chart)));
  const verdict = report.ok ? 'zero failed requests, zero lost writes' : report.failures.join('; ');
  writeFileSync(
    files.chart,
    renderChart({
      title: `${report.services.map((s) => s.name).join(' and ')}: blue-green migration under ${report.options.rps} req/s (${report.ok ? 'passed' : 'FAILED'})`,
      subtitle: `${report.requests.total.toLocaleString('en-US')} requests, p99 ${report.latencyMs.p99} ms; ${verdict}`,
      // The last second is cut short by the stop of the load: it would draw a drop that did not happen.
      seconds: report.perSecond.slice(0, -1),
      startedAt: load.startedAt,
      lanes: report.services.map((s) => ({ name: s.name, phases: s.phases })),
      markers: timeline.markers,
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


