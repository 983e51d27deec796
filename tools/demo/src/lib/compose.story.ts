import { MigrationDefinition, strategyOf } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { mongo } from 'mongoose';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { ComposeCli } from './compose.cli';
import { auditSummary, loadSessionsOf, loadSpecsOf, mixOf, requestsDuring, writeReportFiles, zdmAudit } from './demo.story';
import { LoadGenerator } from './load-generator';
import type { LoadResultMessage, ServiceLoadSpec } from './load.protocol';
import { summarizeAccessLog } from './nginx.load-balancer';
import { sleep } from './os.util';
import { ProcessSupervisor } from './process-supervisor';
import { serviceProof } from './proof';
import { DemoReport, FaultRecord, QuarantineRecord, ServiceFacts, buildReport } from './report';
import { DemoService, ROOT } from './services/demo.service';
import { Timeline } from './timeline';
import { walkFixingQuarantine } from './walk';
import { ZdmDriver, ZdmEvent, ZdmInvocation } from './zdm.driver';

/** Options of {@link ComposeStory}. */
export interface ComposeStoryOptions {
  /** The stack, already up (`docker compose up --wait`) with blue behind nginx. */
  compose: ComposeCli;
  /** The load balancer as published on the host. */
  lbUrl: string;
  /** MongoDB as published on the host, for the seed and the census (the outside view of the data). */
  mongoUrl: string;
  docs: number;
  rps: number;
  /** Containers of blue and of green. */
  instances: number;
  unleashOutageMs: number;
  storeStallMs: number;
  leaseTtlMs: number;
  walkTimeoutMs: number;
  outDir: string;
  /** The services of the stack, the first one (customers) migrated with the faults; orders are seeded for it. */
  services: readonly DemoService[];
  log: (line: string) => void;
}

/** The compose service that runs `zdm` on a service's config and database (deploy/compose/compose.yml). */
const zdmToolOf = (service: string) => (service === 'customers' ? 'zdm' : `zdm-${service}`);

/**
 * The story of `npm run demo`, told to a compose stack: load through the stack's nginx, green
 * started with compose, the switch with deploy/compose/switch.sh, every phase moved by
 * `docker compose run --rm zdm`, and four faults done to containers: a green container stopped,
 * the zdm container killed mid-backfill, Unleash stopped, and the store frozen. The proof and the
 * report are the demo's own (tools/demo/src/lib/{verification,report}.ts).
 */
export class ComposeStory {
  readonly timeline: Timeline;
  readonly workDir = mkdtempSync(path.join(tmpdir(), 'zdm-compose-story-'));
  private readonly supervisor = new ProcessSupervisor(this.workDir);
  private readonly faults: FaultRecord[] = [];
  private readonly notes: string[] = [];
  private readonly quarantine = new Map<string, QuarantineRecord>();
  private readonly startedAt = new Date().toISOString();
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private incomplete: string | null = null;

  constructor(private readonly o: ComposeStoryOptions) {
    this.timeline = new Timeline(o.log);
    this.supervisor.watchParent();
  }

  get reportFiles(): { json: string; markdown: string; chart: string } {
    return { json: path.join(this.o.outDir, 'latest.json'), markdown: path.join(this.o.outDir, 'latest.md'), chart: path.join(this.o.outDir, 'latest.svg') };
  }

  /** Stops what this run started on the host (load generator, zdm commands); the stack is the caller's. */
  async cleanup(): Promise<void> {
    for (const undo of this.cleanups.splice(0).reverse()) await undo().catch((err: Error) => this.o.log(`cleanup: ${err.message}`));
    await this.supervisor.stopAll(5_000);
  }

  removeWorkDir(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }

  async run(): Promise<DemoReport> {
    const { o, timeline: t } = this;
    const compose = o.compose;
    const client = new mongo.MongoClient(o.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    this.cleanups.push(() => client.close());
    const lead = o.services[0];
    this.notes.push('the stack ran as containers (deploy/compose), driven with docker compose; the store is what the compose files name for mongo');

    const seeded: Record<string, ServiceLoadSpec> = {};
    for (const s of o.services) {
      // Orders are fewer than customers, as in the local demo (5,000 customers, 2,000 orders).
      // The auth hub seeds nothing: its users are the ones the load registers.
      const count = s.issuesTokens ? 0 : s === lead ? o.docs : Math.ceil((o.docs * 2) / 5);
      seeded[s.name] = await t.stage(`seed ${count.toLocaleString('en-US')} ${s.name} at v1`, () => s.seed(client.db(s.name), count, { seeded }));
    }
    const load = await t.stage(`load generator at ${o.rps} req/s through ${o.lbUrl}`, async () =>
      LoadGenerator.start({
        supervisor: this.supervisor,
        baseUrl: o.lbUrl,
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
      if (p) o.log(`load: ${p.sent.toLocaleString('en-US')} sent, ${p.failed} failed, ${p.inFlight} in flight`);
    }, 15_000);
    this.cleanups.push(async () => clearInterval(progress));
    t.enterPhase(lead.migrations[0].id, 'pending');

    const drivers = new Map(o.services.map((s) => [s.name, this.zdmDriver(s.name, Math.min(200, Math.max(20, Math.ceil(o.docs / 20))))]));
    const deadline = setTimeout(() => {
      this.incomplete = `the migrations did not complete within ${o.walkTimeoutMs / 1000} s (open phases: ${t.currentPhases.join(', ') || 'none'})`;
      for (const zdm of drivers.values()) zdm.stopAll(this.incomplete);
    }, o.walkTimeoutMs);
    try {
      await this.migrate(drivers, client);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.incomplete ??= `the migrations did not complete: ${message.split('\n')[0]}`;
      o.log(`walk stopped: ${message}`);
    } finally {
      clearTimeout(deadline);
      for (const zdm of drivers.values()) zdm.unblock();
    }

    loadResult = await t.stage('stop the load', () => load.stop());
    t.closePhase();
    const facts: ServiceFacts[] = [];
    for (const s of o.services) {
      const builds = {
        blue: { build: `${s.name}-v1`, description: `container image zdm/${s.name}:v1 (release v1 from git history)` },
        green: { build: `${s.name}-v2`, description: `container image zdm/${s.name}:v2 (this checkout)` },
      };
      const quarantine = this.quarantine.get(s.name) ?? { found: 0, fixed: 0, open: 0, reasons: {} };
      facts.push(await serviceProof(s, { db: client.db(s.name), lbUrl: o.lbUrl, load: loadResult, timeline: t, builds, quarantine }));
    }
    const audit = await t.stage('read the audit log (docker compose run --rm zdm audit)', () =>
      auditSummary(o.services.map((s) => zdmAudit(drivers.get(s.name) as ZdmDriver, s.migrations, 'compose story report'))),
    );
    for (const f of this.faults) Object.assign(f, requestsDuring(loadResult, f));
    const access = summarizeAccessLog(await compose.compose(['logs', '--no-log-prefix', '--no-color', 'nginx']));
    const images = await compose.compose(['config', '--images']);

    const report = buildReport({
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      options: { docs: o.docs, rps: o.rps, port: Number(new URL(o.lbUrl).port), instances: o.instances },
      machine: { cpus: cpus().length, node: process.versions.node, platform: `${process.platform} ${process.arch}` },
      backing: `compose stack: ${images.split('\n').filter(Boolean).join(', ')}`,
      stages: t.stages,
      services: facts,
      load: loadResult,
      faults: this.faults,
      loadBalancer: { reloads: this.reloads, endpointEvents: [], retriedRequests: access.retried, upstreamErrors: access.upstreamErrors },
      audit,
      incomplete: this.incomplete,
      notes: this.notes,
    });
    writeReportFiles(this.reportFiles, report, loadResult, t);
    return report;
  }

  private reloads = 0;

  private nodeEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env['PATH'], HOME: process.env['HOME'], SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json') };
  }

  /**
   * `zdm` of one service as `docker compose run --rm --name <invocation> <zdm tool> ...`, so a fault
   * can kill its container; the tool service holds the service's config and database.
   */
  private zdmDriver(service: string, batchSize: number): ZdmDriver {
    const compose = this.o.compose;
    return new ZdmDriver({
      supervisor: this.supervisor,
      // Where the zdm image keeps each service's config (apps/zdm/Dockerfile).
      config: `/app/apps/${service}/zdm.config.js`,
      env: compose.env,
      actor: 'compose-story',
      name: service,
      globals: ['--lease-ttl', String(this.o.leaseTtlMs), '--min-instances', String(this.o.instances), '--batch-size', String(batchSize), '--target-latency', '4000'],
      launch: (name) => ({ command: 'docker', args: compose.composeArgs(['run', '--rm', '-T', '--no-deps', '--name', `${compose.options.project}-${name}`, zdmToolOf(service)]) }),
      onEvent: (e) => this.onZdmEvent(e),
    });
  }

  private onZdmEvent(e: ZdmEvent) {
    const id = String(e['id'] ?? '');
    if (e.event === 'phase' && typeof e['to'] === 'string') {
      this.timeline.enterPhase(id, e['to'], e.at);
      this.o.log(`zdm: ${id} ${String(e['from'])} -> ${e['to']}`);
    } else if (e.event === 'result' && e['ok'] === false) {
      this.o.log(`zdm: ${e['command']} failed (exit ${e['exitCode']}): ${String(e['error'] ?? e['message'] ?? '')}`);
    }
  }

  /**
   * The first service's migrations with the faults (as the local demo), then every other service's
   * migrations, walked by its own zdm tool, through its quarantine fix path when it has one.
   */
  private async migrate(drivers: Map<string, ZdmDriver>, client: mongo.MongoClient): Promise<void> {
    const { o, timeline: t } = this;
    const compose = o.compose;
    const lead = o.services[0];
    const zdm = drivers.get(lead.name) as ZdmDriver;
    const db = client.db(lead.name);
    const [first, ...rest] = lead.migrations;
    const greens = o.services.map((s) => `${s.name}-green`);
    await t.stage(`docker compose run --rm zdm advance ${first.id} (pending -> expand)`, () => zdm.run(['advance', first.id], 'green is being deployed'));
    await t.stage(`green x${o.instances} up (docker compose up --wait ${greens.join(' ')})`, () => compose.compose(['up', '-d', '--wait', '--no-recreate', '--no-build', '--pull', 'never', ...greens]));
    await t.stage('deploy/compose/switch.sh green (for each service: nginx reload, then blue drains and stops)', async () => {
      t.mark('nginx -> green');
      this.o.log(await compose.command(path.join(ROOT, 'deploy', 'compose', 'switch.sh'), ['green'], 180_000));
      this.reloads++;
    });
    await t.stage(`docker compose run --rm zdm advance ${first.id} (expand -> dual-write)`, () =>
      zdm.run(['advance', first.id, '--flags-timeout', '60'], 'every live instance reads v2: turn dual-write on'),
    );
    await t.stage(`Unleash stopped for ${o.unleashOutageMs / 1000} s during dual-write`, () => this.unleashOutage(db));
    await t.stage(`docker compose run --rm zdm run ${first.id} (backfill with faults, verify, switch-reads, contract)`, () => this.walkWithFaults(zdm, first));
    for (const def of rest) {
      await t.stage(`docker compose run --rm zdm run ${def.id} (${strategyOf(def).kind})`, () =>
        zdm.run(['run', def.id, '--poll', '0.5', '--timeout', '300'], `walk ${def.id} to complete`),
      );
    }
    for (const s of o.services.slice(1)) {
      const record = this.quarantine.get(s.name) ?? { found: 0, fixed: 0, open: 0, reasons: {} };
      this.quarantine.set(s.name, record);
      for (const def of s.migrations) {
        await t.stage(`docker compose run --rm ${zdmToolOf(s.name)} run ${def.id} (${strategyOf(def).kind}${s.fixQuarantine ? ', quarantine fixed with zdm quarantine' : ''})`, () =>
          walkFixingQuarantine(drivers.get(s.name) as ZdmDriver, s, def, record, { db: client.db(s.name), log: (l) => this.o.log(`${s.name}: ${l}`) }),
        );
      }
    }
  }

  /** Stops the Unleash container for a while; the instances keep the flags they had and stay ready. */
  private async unleashOutage(db: mongo.Db): Promise<void> {
    const { o, timeline: t } = this;
    const store = createMongoControlStore(db);
    const flagsNow = async () => Object.fromEntries((await store.heartbeats.live()).map((hb) => [hb.instanceId, hb.flags]));
    const before = await flagsNow();
    const at = new Date().toISOString();
    await o.compose.compose(['stop', 'unleash']);
    t.mark('Unleash stopped', at);
    let samples = 0;
    let changed = 0;
    let notReady = 0;
    const until = performance.now() + o.unleashOutageMs;
    while (performance.now() < until) {
      await sleep(1_000);
      const now = await flagsNow();
      samples++;
      for (const [instance, flags] of Object.entries(now)) if (before[instance] && JSON.stringify(flags) !== JSON.stringify(before[instance])) changed++;
      for (const id of await o.compose.containers('customers-green')) {
        const health = (await o.compose.docker(['inspect', '--format', '{{.State.Health.Status}}', id])).trim();
        if (health === 'unhealthy') notReady++;
      }
    }
    await o.compose.compose(['up', '-d', '--wait', '--no-recreate', '--no-deps', 'unleash']);
    const endedAt = new Date().toISOString();
    t.mark('Unleash back', endedAt);
    this.faults.push({
      kind: 'unleash-unreachable',
      at,
      endedAt,
      detail:
        `the Unleash container was stopped for ${o.unleashOutageMs / 1000} s during dual-write (then started and healthy again); over ${samples} checks the instances kept ` +
        `the flags they had (${changed} heartbeat(s) showed other values) and no green container turned unhealthy (${notReady} unhealthy samples)`,
      heartbeatFlagChanges: changed,
      failedReadinessProbes: notReady,
      flagsBefore: before,
    });
  }

  /**
   * `zdm run` of the first migration with three faults in its backfill: past a quarter one green
   * container is stopped (SIGTERM, drain) and started again, past half the zdm container is killed
   * (SIGKILL; the next run resumes from the checkpoint once the lease expired), past three quarters
   * of the resumed backfill the store's container is frozen (SIGSTOP, then SIGCONT).
   */
  private async walkWithFaults(zdm: ZdmDriver, def: MigrationDefinition): Promise<void> {
    const compose = this.o.compose;
    let current: ZdmInvocation | null = null;
    let killed: { at: string; done: number; total: number; container: string } | null = null;
    let resumed: { at: string; done: number } | null = null;
    let instanceFault: Promise<void> | null = null;
    let storeFault: Promise<void> | null = null;
    let lastDone = 0;
    const onProgress = (e: ZdmEvent) => {
      if (e.event !== 'progress' || e['job'] !== 'backfill' || e['id'] !== def.id) return;
      const done = Number(e['done']);
      const total = Math.max(1, Number(e['total']));
      const batch = Number(e['written'] ?? 0) + Number(e['skipped'] ?? 0) + Number(e['quarantined'] ?? 0);
      if (killed && !resumed) resumed = { at: e.at ?? new Date().toISOString(), done: done - batch };
      lastDone = done;
      if (done >= total) return;
      if (!instanceFault && done / total >= 0.25) instanceFault = this.stopOneGreen();
      if (!storeFault && resumed && done / total >= 0.75) storeFault = this.stallStore(done, total);
      if (!killed && done / total >= 0.5 && current) {
        const container = `${compose.options.project}-${current.name}`;
        killed = { at: new Date().toISOString(), done, total, container };
        this.timeline.mark('zdm container killed', killed.at);
        this.o.log(`fault: docker kill ${container} (SIGKILL) at ${done}/${total}`);
        void compose.docker(['kill', '--signal', 'KILL', container]).catch((err: Error) => this.o.log(`fault: ${err.message}`));
      }
    };
    zdm.listen(onProgress);
    try {
      for (let attempt = 1; ; attempt++) {
        current = zdm.start(['run', def.id, '--poll', '0.5', '--timeout', '300'], attempt === 1 ? `walk ${def.id} to complete` : `resume ${def.id} after its container was killed`);
        const outcome = await current.done;
        // Done only with the CLI's own result line: `docker compose run` on podman may exit 0 for a
        // container that was killed (137 on Docker), and a killed CLI prints no result.
        if (outcome.exitCode === 0 && outcome.result?.['ok'] === true) break;
        if (killed && attempt === 1 && !outcome.result) continue;
        throw new Error(`zdm run ${def.id} exited ${outcome.exitCode ?? outcome.signal}: ${String(outcome.result?.['error'] ?? `see ${current.proc.logFile}`)}`);
      }
    } finally {
      zdm.unlisten(onProgress);
    }
    await instanceFault;
    await storeFault;
    const k = killed as { at: string; done: number; total: number; container: string } | null;
    const r = resumed as { at: string; done: number } | null;
    if (!storeFault) this.notes.push(`the backfill finished (${lastDone} documents) before the store could be frozen past three quarters; raise --docs`);
    if (!k) {
      this.notes.push(`the backfill finished (${lastDone} documents) before the zdm container could be killed mid-way; raise --docs`);
      return;
    }
    this.faults.push({
      kind: 'runner-killed',
      at: k.at,
      endedAt: r?.at,
      detail:
        `the zdm container running the backfill (${k.container}) was killed (SIGKILL) at ${k.done.toLocaleString('en-US')}/${k.total.toLocaleString('en-US')} documents; ` +
        (r ? `the next docker compose run --rm zdm run waited for its lease to expire and resumed from the checkpoint at ${r.done.toLocaleString('en-US')}` : 'it finished without resuming a backfill'),
      killedAtDone: k.done,
      resumedFromCheckpoint: r?.done ?? null,
      total: k.total,
    });
  }

  /**
   * `docker stop` of one green container while it serves (SIGTERM: readiness 503, drain), then
   * `docker start` and an nginx reload. The story plays the deployer's part (services.conf.template:
   * instances leave the upstream before they stop): it first takes the container out of nginx's
   * upstream (a graceful reload: the old workers finish what they sent it), then sends the SIGTERM,
   * so no POST or PATCH can reach the instance when it closes its listener (nginx cannot send those
   * again once they reached an instance). An orchestrator does the same with its endpoints and a
   * pre-stop delay. Once it serves again, the upstream goes back to the service name (every green
   * container).
   */
  private async stopOneGreen(): Promise<void> {
    const compose = this.o.compose;
    const service = 'customers';
    const ids = await compose.containers(`${service}-green`);
    const victim = ids[ids.length - 1];
    const name = await compose.containerName(victim);
    const others = await Promise.all(ids.filter((id) => id !== victim).map((id) => this.addressOf(id)));
    const at = new Date().toISOString();
    this.timeline.mark(`docker stop ${name}`, at);
    this.o.log(`fault: docker stop ${name} while it serves`);
    const deregisterStarted = performance.now();
    // Only the other green containers, by address, until the victim is back.
    await this.setUpstream(service, ['# the green containers but one, while it restarts', `upstream ${service} {`, ...others.map((a) => `    server ${a}:3000 max_fails=0;`), '}']);
    const outOfUpstreamMs = Math.round(performance.now() - deregisterStarted);
    this.o.log(`lb: ${name} out of nginx's upstream (${outOfUpstreamMs} ms); SIGTERM`);
    const stopStarted = performance.now();
    await compose.docker(['stop', '--time', '30', victim]);
    const stoppedMs = Math.round(performance.now() - stopStarted);
    const exitCode = Number((await compose.docker(['inspect', '--format', '{{.State.ExitCode}}', victim])).trim());
    await compose.docker(['start', victim]);
    await this.waitHealthy(victim, 120_000);
    // Back to every green container (the service name, resolved again on the reload: its address may have changed).
    await compose.compose(['exec', '-T', 'nginx', 'cp', `/etc/nginx/upstreams-available/${service}-green.conf`, `/etc/nginx/upstreams/active-${service}.conf`]);
    await compose.compose(['exec', '-T', 'nginx', 'nginx', '-s', 'reload']);
    this.reloads++;
    const endedAt = new Date().toISOString();
    this.timeline.mark(`${name} serving again`, endedAt);
    this.faults.push({
      kind: 'instance-stopped',
      at,
      endedAt,
      detail:
        `${name} left nginx's upstream (${outOfUpstreamMs} ms, a graceful reload) and got SIGTERM (docker stop) mid-backfill; ` +
        `it drained what nginx's old workers had sent it and exited with code ${exitCode} after ${stoppedMs} ms while new requests went to the other green container; ` +
        `it was started again, healthy, and nginx reloaded with every green container`,
      instance: name,
      exitCode,
      exitAfterMs: stoppedMs,
      replacement: name,
    });
  }

  /** The address of a container on the stack's network. */
  private async addressOf(id: string): Promise<string> {
    const out = await this.o.compose.docker(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id]);
    const address = out.trim().split(/\s+/)[0];
    if (!address) throw new Error(`container ${id} has no address on the stack's network`);
    return address;
  }

  /** Replaces a service's active upstream in nginx, checks the config and reloads (the old upstream stays if nginx -t refuses). */
  private async setUpstream(service: string, lines: string[]): Promise<void> {
    const script = [
      'cd /etc/nginx/upstreams',
      `cp active-${service}.conf active-${service}.conf.previous`,
      `printf '%s\\n' "$@" > active-${service}.conf`,
      `nginx -t -q || { mv active-${service}.conf.previous active-${service}.conf; echo 'nginx -t refused the upstream' >&2; exit 1; }`,
      `rm active-${service}.conf.previous`,
      'nginx -s reload',
    ].join('\n');
    await this.o.compose.compose(['exec', '-T', 'nginx', 'sh', '-ec', script, 'sh', ...lines]);
    this.reloads++;
  }

  private async waitHealthy(id: string, timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const health = (await this.o.compose.docker(['inspect', '--format', '{{.State.Health.Status}}', id])).trim();
      if (health === 'healthy') return;
      if (performance.now() > until) throw new Error(`container ${id} not healthy after ${timeoutMs / 1000} s (${health})`);
      await sleep(500);
    }
  }

  /** Freezes the store's container (SIGSTOP to its processes), then thaws it (SIGCONT). */
  private async stallStore(done: number, total: number): Promise<void> {
    const compose = this.o.compose;
    const [mongoId] = await compose.containers('mongo');
    const ms = this.o.storeStallMs;
    const at = new Date().toISOString();
    this.timeline.mark(`store SIGSTOP ${ms / 1000} s`, at);
    this.o.log(`fault: SIGSTOP to the mongo container for ${ms / 1000} s at ${done}/${total}`);
    const thaw = async () => void (await compose.docker(['kill', '--signal', 'CONT', mongoId]));
    this.cleanups.push(thaw);
    await compose.docker(['kill', '--signal', 'STOP', mongoId]);
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
      detail: `the mongo container was frozen (docker kill --signal STOP) for ${ms / 1000} s at ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} documents of the backfill, then resumed (SIGCONT)`,
      stalledMs: Date.parse(endedAt) - Date.parse(at),
      atDone: done,
      total,
    });
  }
}
