import { ALL_SOURCES, type ServiceHandle, type ServiceName, type ServiceSource, type StartOptions } from './types';

/** Thrown when no source could provide a service; the message says what to install. */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly attempts: readonly string[],
    readonly hints: readonly string[],
  ) {
    super(
      `${service} is not available.\n` +
        `  Tried:\n${attempts.map((a) => `    - ${a}`).join('\n')}\n` +
        `  To fix, do one of:\n${hints.map((h) => `    - ${h}`).join('\n')}`,
    );
    this.name = 'ServiceUnavailableError';
  }
}

/** Returned by a strategy that does not apply here (e.g. variable unset, binary missing). */
export interface NotApplicable {
  skip: string;
}

export interface Strategy<T> {
  source: ServiceSource;
  label: string;
  start: () => Promise<T | NotApplicable>;
}

const isSkip = <T>(r: T | NotApplicable): r is NotApplicable =>
  typeof r === 'object' && r !== null && 'skip' in r && !('stop' in r);

export function allowedSources(opts: StartOptions = {}): readonly ServiceSource[] {
  if (opts.sources) return opts.sources;
  const fromEnv = process.env.ZDM_SERVICE_SOURCES?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!fromEnv?.length) return ALL_SOURCES;
  const unknown = fromEnv.filter((s) => !ALL_SOURCES.includes(s as ServiceSource));
  if (unknown.length) throw new Error(`ZDM_SERVICE_SOURCES: unknown source(s) ${unknown.join(', ')}; use ${ALL_SOURCES.join(', ')}`);
  return fromEnv as ServiceSource[];
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Tries the strategies in order and returns the first service that starts. An `env`
 * strategy that applies but fails is fatal: an explicit address is never silently replaced.
 */
export async function resolveService<T extends ServiceHandle>(
  service: ServiceName,
  strategies: readonly Strategy<T>[],
  hints: readonly string[],
  opts: StartOptions = {},
): Promise<T> {
  const allowed = allowedSources(opts);
  const attempts: string[] = [];
  for (const strategy of strategies) {
    if (!allowed.includes(strategy.source)) {
      attempts.push(`${strategy.label}: not in allowed sources (${allowed.join(',')})`);
      continue;
    }
    opts.log?.(`${service}: trying ${strategy.label}`);
    let result: T | NotApplicable;
    try {
      result = await strategy.start();
    } catch (err) {
      if (strategy.source === 'env') throw new Error(`${service}: ${errorText(err)}`);
      attempts.push(`${strategy.label}: failed: ${errorText(err)}`);
      continue;
    }
    if (isSkip(result)) {
      attempts.push(`${strategy.label}: ${result.skip}`);
      continue;
    }
    opts.log?.(`${service}: ${result.description} [${result.source}] ready in ${result.startupMs} ms`);
    return result;
  }
  throw new ServiceUnavailableError(service, attempts, hints);
}

/** Handle fields shared by every service kind. */
export function handle(source: ServiceSource, description: string, startedAt: number, stop: () => Promise<void>, local?: { pid: number; dir: string }): ServiceHandle {
  let stopped: Promise<void> | undefined;
  return {
    source,
    description,
    startupMs: Date.now() - startedAt,
    ...local,
    stop: () => (stopped ??= stop()),
  };
}

export const noop = async (): Promise<void> => undefined;
