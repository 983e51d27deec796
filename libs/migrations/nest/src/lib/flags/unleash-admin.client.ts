import type { FlagAdmin } from '@zdm/migrations-core';

/** Options of {@link UnleashFlagAdmin}. */
export interface UnleashFlagAdminOptions {
  /** Unleash base URL, e.g. `http://unleash:4242` (a trailing `/api` is accepted). */
  url: string;
  /** Admin API token (or a personal access token), sent as the `Authorization` header. */
  token: string;
  /** Project new flags are created in. Default `default`. */
  project?: string;
  /** Environment whose on/off state is changed. Default `development`. */
  environment?: string;
  /** Type given to flags it creates. Default `operational`. */
  flagType?: string;
  /** HTTP timeout of one request. Default 10000 ms. */
  timeoutMs?: number;
}

/** An Admin API call that failed, with what Unleash answered. */
export class UnleashAdminError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    detail: string,
  ) {
    super(`Unleash Admin API ${method} ${path} failed${status ? ` (${status})` : ''}: ${detail}`);
    this.name = 'UnleashAdminError';
  }
}

/** The base URL without trailing slashes or `/api`. */
export function unleashBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '').replace(/\/api$/, '');
}

/**
 * Changes flags through Unleash's Admin API (v8 paths, `/api/admin/projects/{project}/features/...`).
 * `set` creates a missing flag (reviving it if it was archived) and switches it on or off in one
 * environment; calling it again with the same value is harmless.
 */
export class UnleashFlagAdmin implements FlagAdmin {
  private readonly base: string;
  private readonly project: string;
  private readonly environment: string;

  constructor(private readonly options: UnleashFlagAdminOptions) {
    if (!options.url) throw new Error('UnleashFlagAdmin: url is required (e.g. http://unleash:4242)');
    if (!options.token) throw new Error('UnleashFlagAdmin: token is required (an Unleash admin API token)');
    this.base = unleashBaseUrl(options.url);
    this.project = options.project ?? 'default';
    this.environment = options.environment ?? 'development';
  }

  async set(flag: string, enabled: boolean): Promise<void> {
    await this.ensureFlag(flag);
    const env = encodeURIComponent(this.environment);
    await this.call('POST', `${this.featurePath(flag)}/environments/${env}/${enabled ? 'on' : 'off'}`);
  }

  /** Whether the flag is on in the environment; null when the flag does not exist (or is archived). */
  async get(flag: string): Promise<boolean | null> {
    const feature = (await this.call('GET', this.featurePath(flag), { missingOk: true })) as {
      environments?: { name: string; enabled: boolean }[];
    } | null;
    if (!feature) return null;
    const env = feature.environments?.find((e) => e.name === this.environment);
    if (!env) {
      throw new UnleashAdminError('GET', this.featurePath(flag), 200, `environment "${this.environment}" is not enabled in project "${this.project}"`);
    }
    return env.enabled;
  }

  private featurePath(flag: string): string {
    if (typeof flag !== 'string' || !flag.trim()) throw new Error(`UnleashFlagAdmin: a flag name is required, got ${JSON.stringify(flag)}`);
    return `/api/admin/projects/${encodeURIComponent(this.project)}/features/${encodeURIComponent(flag)}`;
  }

  private async ensureFlag(flag: string): Promise<void> {
    if ((await this.call('GET', this.featurePath(flag), { missingOk: true })) !== null) return;
    const body = { name: flag, type: this.options.flagType ?? 'operational', description: 'zero-downtime migration flag (zdm)' };
    try {
      await this.call('POST', `/api/admin/projects/${encodeURIComponent(this.project)}/features`, { body });
    } catch (err) {
      if (!(err instanceof UnleashAdminError) || err.status !== 409) throw err;
      // 409: archived under that name (revive it), or created concurrently by someone else (fine).
      if (/archived/i.test(err.message)) await this.call('POST', `/api/admin/archive/revive/${encodeURIComponent(flag)}`);
    }
  }

  private async call(method: string, path: string, opts: { body?: unknown; missingOk?: boolean } = {}): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { Authorization: this.options.token, Accept: 'application/json', ...(opts.body ? { 'Content-Type': 'application/json' } : {}) },
        body: opts.body ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new UnleashAdminError(method, path, 0, `${err instanceof Error ? err.message : String(err)}${cause ? ` (${cause})` : ''}`);
    }
    const text = await res.text();
    if (res.status === 404 && opts.missingOk) return null;
    if (!res.ok) throw new UnleashAdminError(method, path, res.status, describeFailure(res.status, text));
    return parseJson(text) ?? {};
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function describeFailure(status: number, text: string): string {
  const body = parseJson(text) as { message?: string; details?: { message?: string }[] } | null;
  let message = [body?.message, ...(body?.details ?? []).map((d) => d.message)].filter(Boolean).join('; ') || text.slice(0, 500);
  if (status === 401 || status === 403) message += ' (is the token an admin token for this project?)';
  return message;
}
