import type { ServiceInstance, Readiness } from './service.fleet';
import type { UpstreamServer } from './nginx.load-balancer';

/** The part of the load balancer the watcher drives. */
export interface UpstreamTarget {
  setUpstream(servers: readonly UpstreamServer[], note: string): Promise<unknown>;
}

/** One change of the serving set, for the report. */
export interface EndpointEvent {
  at: Date;
  instance: string;
  action: 'added' | 'removed';
  reason: string;
}

/** Options of {@link EndpointWatcher}. */
export interface EndpointWatcherOptions {
  /** How often each serving instance's readiness is probed. Default 250 ms. */
  pollMs?: number;
  /** Failed probes in a row before an instance leaves (a shutdown leaves at once). Default 3. */
  failuresToLeave?: number;
  /** How long one probe may take. Default 2000 ms. */
  probeTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Member {
  instance: ServiceInstance;
  serving: boolean;
  failures: number;
  /** Shutting down or exited: never serves again. */
  gone: boolean;
}

/**
 * Keeps the load balancer's upstream equal to the instances of the active color that are ready,
 * as Kubernetes' endpoints controller does with readiness probes: an instance that says it is
 * shutting down (readiness 503 `shutting_down`, the first thing SIGTERM does) leaves at once, during
 * its drain, before it stops accepting connections; one that fails its probe three times in a row leaves
 * until it is ready again. The upstream is never emptied: with no instance ready, the last set stays.
 */
export class EndpointWatcher {
  readonly events: EndpointEvent[] = [];
  /** Upstream changes applied (each one a graceful nginx reload). */
  reloads = 0;
  private members: Member[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | null = null;
  private readonly pollMs: number;
  private readonly failuresToLeave: number;
  private lastApplied = '';

  constructor(
    private readonly lb: UpstreamTarget,
    private readonly options: EndpointWatcherOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.failuresToLeave = options.failuresToLeave ?? 3;
  }

  /** Serves exactly `instances` from now on (the blue-green switch); resolves once nginx reloaded. */
  async activate(instances: readonly ServiceInstance[], note: string): Promise<void> {
    await this.polling;
    this.members = instances.map((instance) => ({ instance, serving: true, failures: 0, gone: false }));
    for (const m of this.members) this.record(m, 'added', note);
    await this.apply(note, true);
  }

  /** Adds an instance to the active set; it serves once its readiness probe passes. */
  add(instance: ServiceInstance): void {
    this.members.push({ instance, serving: false, failures: 0, gone: false });
  }

  /** The instances serving now. */
  serving(): ServiceInstance[] {
    return this.members.filter((m) => m.serving).map((m) => m.instance);
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.polling ??= this.poll()
        .catch((err: Error) => this.options.log?.(`load balancer: could not apply readiness: ${err.message}`))
        .finally(() => (this.polling = null));
    }, this.pollMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One round of probes; applies the new serving set when it changed. Exposed for tests. */
  async poll(): Promise<void> {
    const probes = await Promise.all(this.members.map(async (m) => [m, m.instance.running ? await m.instance.readiness(this.options.probeTimeoutMs ?? 2_000) : null] as const));
    for (const [m, probe] of probes) this.judge(m, probe);
    this.members = this.members.filter((m) => !(m.gone && !m.serving && !m.instance.running));
    await this.apply('readiness changed', false);
  }

  private judge(m: Member, probe: Readiness | null) {
    if (m.gone) return;
    if (!probe || probe.shuttingDown) {
      m.gone = true;
      if (m.serving) this.leave(m, probe ? 'shutting down (readiness 503)' : 'process exited');
      return;
    }
    if (probe.ready) {
      m.failures = 0;
      if (!m.serving) {
        m.serving = true;
        this.record(m, 'added', 'ready');
      }
      return;
    }
    m.failures++;
    if (m.serving && m.failures >= this.failuresToLeave) this.leave(m, `not ready ${m.failures} times in a row (${probe.detail})`);
  }

  private leave(m: Member, reason: string) {
    m.serving = false;
    this.record(m, 'removed', reason);
  }

  private record(m: Member, action: EndpointEvent['action'], reason: string) {
    this.events.push({ at: new Date(), instance: m.instance.name, action, reason });
    this.options.log?.(`load balancer: ${action === 'added' ? '+' : '-'} ${m.instance.name} (${reason})`);
  }

  private async apply(note: string, force: boolean) {
    const serving = this.serving();
    if (!serving.length) {
      if (force) throw new Error('no instance to serve');
      return;
    }
    const key = serving.map((i) => i.port).join(',');
    if (!force && key === this.lastApplied) return;
    await this.lb.setUpstream(
      serving.map((i) => ({ host: '127.0.0.1', port: i.port })),
      `${note}: ${serving.map((i) => i.name).join(', ')}`,
    );
    this.lastApplied = key;
    this.reloads++;
  }
}
