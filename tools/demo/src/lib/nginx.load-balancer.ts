import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep, tail } from './os.util';
import { ManagedProcess, ProcessSupervisor } from './process-supervisor';

const run = promisify(execFile);

/** Where the nginx templates live (the compose stack reuses the same files). */
export const NGINX_TEMPLATE_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'deploy', 'nginx');

/** One instance behind the load balancer. */
export interface UpstreamServer {
  host: string;
  port: number;
}

/**
 * Replaces `${NAME}` for each name in `vars`, as envsubst with an explicit variable list does
 * (nginx's own `$variables` are left alone). A `${ZDM_...}` left without a value is an error.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  const out = template.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => (name in vars ? vars[name] : whole));
  const missing = [...new Set([...out.matchAll(/\$\{(ZDM_[A-Z0-9_]+)\}/g)].map((m) => m[1]))];
  if (missing.length) throw new Error(`nginx template needs a value for ${missing.join(', ')}`);
  return out;
}

/**
 * The `upstream <service> { ... }` block for `servers`, with a comment saying why it was written.
 * nginx never marks an instance unavailable by itself (`max_fails=0`): readiness takes instances
 * out, through the endpoint watcher. nginx counts a 503 as a failed attempt (it passes reads on
 * after one), so when the store is slow every instance answers some 503s at their deadline, and
 * with failure counting they were all skipped at once: 1,091 requests got nginx's own 502 ("no live
 * upstreams") in one overloaded demo run. A dead instance costs only a refused connect per request
 * until the watcher removes it.
 */
export function renderUpstream(name: string, servers: readonly UpstreamServer[], note: string): string {
  if (!servers.length) throw new Error(`upstream ${name} needs at least one server`);
  const lines = servers.map((s) => `    server ${s.host}:${s.port} max_fails=0;`);
  return [`# ${note.replace(/\n/g, ' ')}`, `upstream ${name} {`, ...lines, '}', ''].join('\n');
}

/** The first nginx found: NGINX_BIN, PATH, then /usr/sbin and /usr/local/sbin. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['NGINX_BIN'];
  const dirs = [...(env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  const candidates = explicit ? [explicit] : dirs.filter(Boolean).map((d) => path.join(d, 'nginx'));
  const found = candidates.find((file) => {
    try {
      return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`nginx not found${explicit ? ` at NGINX_BIN=${explicit}` : ''}: run bash tools/setup.sh (apt-get install nginx), or set NGINX_BIN`);
  return found;
}

/** Resolves when `host:port` can be bound, else rejects naming what holds it. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`${host}:${port} is not free (${err.code}); stop what listens there or set DEMO_PORT to another port`)),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Options of {@link NginxLoadBalancer.start}. */
export interface NginxOptions {
  supervisor: ProcessSupervisor;
  /** Private prefix directory (config, logs, pid, temp files). */
  prefix: string;
  host: string;
  port: number;
  /** The first servers of each service's upstream (the service's name is its upstream's). */
  upstreams: Record<string, readonly UpstreamServer[]>;
  note: string;
  env?: NodeJS.ProcessEnv;
}

/** What one upstream change did. */
export interface UpstreamChange {
  generation: number;
  service: string;
  servers: UpstreamServer[];
  note: string;
  /** Milliseconds from writing the file until the last old worker exited (or the wait gave up). */
  reloadMs: number;
  /** Old workers still finishing requests when the wait gave up (slow requests keep them up to proxy_read_timeout). */
  oldWorkersLeft: number;
}

/**
 * nginx as an unprivileged foreground process with a private prefix, rendered from
 * deploy/nginx/*.template, with one upstream file per service (`upstreams/<service>.conf`; the
 * template routes `/<service>/...` to it). Upstream changes rewrite one service's file, check the whole config with
 * `nginx -t`, reload with SIGHUP, and resolve once every old worker has exited, so that from then on
 * no request can reach a server that left the upstream.
 */
export class NginxLoadBalancer {
  private generation = 0;
  private current = new Map<string, UpstreamServer[]>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly bin: string,
    readonly prefix: string,
    readonly url: string,
    private readonly process: ManagedProcess,
    private readonly files: { conf: string; upstreams: string; accessLog: string; errorLog: string },
  ) {}

  static async start(options: NginxOptions): Promise<NginxLoadBalancer> {
    const bin = findNginx(options.env);
    const { prefix, host, port } = options;
    await assertPortFree(host, port);
    for (const sub of ['tmp', 'logs', 'upstreams']) mkdirSync(path.join(prefix, sub), { recursive: true });
    // Workers of a root master run as another user; they must be able to enter the prefix.
    chmodSync(prefix, 0o755);
    const files = {
      conf: path.join(prefix, 'nginx.conf'),
      upstreams: path.join(prefix, 'upstreams'),
      accessLog: path.join(prefix, 'access.log'),
      errorLog: path.join(prefix, 'error.log'),
    };
    const template = (name: string) => readFileSync(path.join(NGINX_TEMPLATE_DIR, name), 'utf8');
    writeFileSync(files.conf, renderTemplate(template('nginx.local.conf.template'), { ZDM_NGINX_PREFIX: prefix }));
    writeFileSync(
      path.join(prefix, 'services.conf'),
      renderTemplate(template('services.conf.template'), {
        ZDM_LB_LISTEN: `${host}:${port}`,
        ZDM_UPSTREAM_FILE: path.join(files.upstreams, '*.conf'),
        ZDM_ACCESS_LOG: files.accessLog,
      }),
    );
    for (const [service, servers] of Object.entries(options.upstreams)) writeFileSync(path.join(files.upstreams, `${service}.conf`), renderUpstream(service, servers, options.note));
    await checkConfig(bin, prefix, files.conf);
    const proc = options.supervisor.start('nginx', bin, ['-p', prefix, '-c', files.conf, '-g', 'daemon off;'], { env: options.env ?? process.env });
    const lb = new NginxLoadBalancer(bin, prefix, `http://${host}:${port}`, proc, files);
    for (const [service, servers] of Object.entries(options.upstreams)) lb.current.set(service, [...servers]);
    await lb.waitHealthy(10_000);
    return lb;
  }

  get accessLog(): string {
    return this.files.accessLog;
  }

  get errorLog(): string {
    return this.files.errorLog;
  }

  /** The servers of `service`'s upstream now. */
  servers(service: string): UpstreamServer[] {
    return [...(this.current.get(service) ?? [])];
  }

  /** One service's upstream, as an endpoint watcher drives it. */
  upstream(service: string): { setUpstream(servers: readonly UpstreamServer[], note: string): Promise<UpstreamChange> } {
    return { setUpstream: (servers, note) => this.setUpstream(service, servers, note) };
  }

  /** Points `service`'s upstream at `servers` (serialized with other changes); see the class comment. */
  setUpstream(service: string, servers: readonly UpstreamServer[], note: string): Promise<UpstreamChange> {
    if (!this.current.has(service)) return Promise.reject(new Error(`the load balancer has no upstream ${service}`));
    const next = this.queue.then(() => this.apply(service, [...servers], note));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops nginx gracefully (SIGQUIT: finish requests in flight). */
  async stop(): Promise<void> {
    await this.process.stop('SIGQUIT', 5_000);
  }

  private async apply(service: string, servers: UpstreamServer[], note: string): Promise<UpstreamChange> {
    const started = performance.now();
    const file = path.join(this.files.upstreams, `${service}.conf`);
    const previous = readFileSync(file, 'utf8');
    writeFileSync(file, renderUpstream(service, servers, note));
    try {
      await checkConfig(this.bin, this.prefix, this.files.conf);
    } catch (err) {
      writeFileSync(file, previous);
      throw err;
    }
    const oldWorkers = workersOf(this.process.pid);
    this.process.signal('SIGHUP');
    const oldWorkersLeft = await this.waitWorkersReplaced(oldWorkers, 35_000);
    this.current.set(service, servers);
    this.generation++;
    return { generation: this.generation, service, servers, note, reloadMs: Math.round(performance.now() - started), oldWorkersLeft };
  }

  /** Waits until new workers run and the old ones exited; resolves to how many old ones are still finishing requests. */
  private async waitWorkersReplaced(old: number[], timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const now = workersOf(this.process.pid);
      const left = now.filter((pid) => old.includes(pid)).length;
      if (now.length > left && left === 0) return 0;
      if (!this.process.running) throw new Error(`nginx exited during a reload; see ${this.files.errorLog}`);
      if (performance.now() > deadline) return left;
      await sleep(20);
    }
  }

  private async waitHealthy(timeoutMs: number) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/__lb/health`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok && workersOf(this.process.pid).length > 0) return;
      } catch {
        // not listening yet
      }
      if (!this.process.running) throw new Error(`nginx exited at start: ${tail(this.files.errorLog, 5)}`);
      if (performance.now() > deadline) throw new Error(`nginx did not answer on ${this.url} within ${timeoutMs} ms: ${tail(this.files.errorLog, 5)}`);
      await sleep(50);
    }
  }
}

async function checkConfig(bin: string, prefix: string, conf: string): Promise<void> {
  try {
    await run(bin, ['-t', '-q', '-p', prefix, '-c', conf, '-g', 'daemon off;']);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`nginx -t rejected the config: ${stderr.trim()}`);
  }
}

/** The worker pids of an nginx master (Linux: /proc/<pid>/task/<pid>/children). */
export function workersOf(masterPid: number): number[] {
  const file = `/proc/${masterPid}/task/${masterPid}/children`;
  if (!existsSync(file)) return [];
  const children = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  // Cache loader/manager processes would be children too; this config has none. Zombies are gone already.
  return children.filter((pid) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** What nginx's access log (format `zdm_lb`) says about upstream retries. */
export interface AccessLogSummary {
  requests: number;
  /** Requests nginx sent to more than one instance. */
  retried: number;
  /** Attempts that an instance failed (no answer, or 502/503/504) before nginx tried the next. */
  upstreamErrors: number;
}

/** Reads `$upstream_addr` / `$upstream_status` of each line: `"a, b"` means nginx tried a, then b. */
export function summarizeAccessLog(text: string): AccessLogSummary {
  const summary: AccessLogSummary = { requests: 0, retried: 0, upstreamErrors: 0 };
  for (const line of text.split('\n')) {
    const m = /^\S+ \S+ \d+ \S+ "([^"]*)" "([^"]*)"/.exec(line);
    if (!m) continue;
    summary.requests++;
    const attempts = m[1].split(/, | : /).filter(Boolean);
    if (attempts.length > 1) summary.retried++;
    summary.upstreamErrors += m[2].split(/, | : /).filter((s) => s === '-' || ['502', '503', '504'].includes(s)).length;
  }
  return summary;
}
