import path from 'node:path';
import type { RequestMix } from './load.model';
import type { AuthLoadSpec } from './services/load.sessions';
import type { LoadControlMessage, LoadProgressMessage, LoadResultMessage, LoadWorkerMessage, ServiceLoadSpec } from './load.protocol';
import { ManagedProcess, ProcessSupervisor } from './process-supervisor';

/** Options of {@link LoadGenerator.start}. */
export interface LoadGeneratorOptions {
  supervisor: ProcessSupervisor;
  /** The load balancer's URL. */
  baseUrl: string;
  /** Requests per second. */
  rps: number;
  /** Weights of `<service>.<kind>` requests (lib/services/*.traffic.ts). */
  mix: RequestMix;
  /** Each service's traffic and seeded documents. */
  services: ServiceLoadSpec[];
  /** Environment of the worker (needs SWC_NODE_PROJECT for the TypeScript entry). */
  env: NodeJS.ProcessEnv;
  maxInFlight?: number;
  timeoutMs?: number;
  randomSeed?: number;
  /** Where the load logs in before its writes (see {@link AuthLoadSpec}); without it, writes carry no token. */
  auth?: AuthLoadSpec;
}

/**
 * The load generator as a separate process (so that the demo's own work never delays a request or
 * its measurement). `start` forks it and starts the load; `stop` ends the load and resolves to
 * every request and every acknowledged write.
 */
export class LoadGenerator {
  private latest: LoadProgressMessage | null = null;
  private result: Promise<LoadResultMessage>;

  private constructor(private readonly proc: ManagedProcess) {
    this.result = new Promise((resolve, reject) => {
      proc.child.on('message', (message: LoadWorkerMessage) => {
        if (message.type === 'progress') this.latest = message;
        else if (message.type === 'result') resolve(message);
      });
      void proc.exited.then((exit) => reject(new Error(`the load generator exited (${exit.signal ?? exit.code}) before reporting; see ${proc.logFile}`)));
    });
    // A rejection nobody awaits yet must not crash the demo; stop() surfaces it.
    this.result.catch(() => undefined);
  }

  static start(options: LoadGeneratorOptions): LoadGenerator {
    const entry = path.join(__dirname, '..', 'load.worker.ts');
    const proc = options.supervisor.start('load-generator', entry, [], {
      env: options.env,
      fork: { execPath: process.execPath, execArgv: ['-r', '@swc-node/register'] },
    });
    const generator = new LoadGenerator(proc);
    generator.send({
      type: 'start',
      baseUrl: options.baseUrl,
      rps: options.rps,
      mix: options.mix,
      services: options.services,
      maxInFlight: options.maxInFlight ?? 400,
      timeoutMs: options.timeoutMs ?? 30_000,
      randomSeed: options.randomSeed ?? 42,
      auth: options.auth,
    });
    return generator;
  }

  /** The last progress report (every second), or null before the first. */
  progress(): LoadProgressMessage | null {
    return this.latest;
  }

  /** Stops the load and resolves to what it recorded. */
  async stop(): Promise<LoadResultMessage> {
    this.send({ type: 'stop' });
    const result = await this.result;
    await this.proc.stop('SIGTERM', 5_000);
    return result;
  }

  private send(message: LoadControlMessage) {
    this.proc.child.send(message);
  }
}
