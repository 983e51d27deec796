import type { GateResult } from './gates';
import { InstanceHeartbeat, MigrationDefinition, SchemaSupport, strategyOf, targetName } from './migration.types';
import { PHASES, Phase, phasesOf } from './phases';

/**
 * Where every service built on the migration library tells others about its schema (read-only):
 * `GET /.well-known/zdm/schema` answers a {@link ServiceSchemaReport}.
 */
export const SCHEMA_PATH = '/.well-known/zdm/schema';

/**
 * A step of another service's migration that a migration waits for. The dependent migration may
 * not leave any phase (not even `pending`) until `service` reports `migration` at `phase` or past it
 * on its forward path (`complete` satisfies every phase; `rolled-back` none).
 *
 * ```ts
 * requires: [{ service: 'customers', migration: 'customers.full-name', phase: 'switch-reads' }]
 * ```
 */
export interface MigrationRequirement {
  /** The other service, as its migrations name it (`service`). */
  service: string;
  /** The id of that service's migration. */
  migration: string;
  /** The phase it must have reached. */
  phase: Phase;
}

/** One migration as its service reports it. */
export interface MigrationSchemaEntry {
  id: string;
  description: string;
  /** Target name (collection or key pattern). */
  target: string;
  from: number;
  to: number;
  strategy: string;
  /** Its forward path, in order. */
  phases: Phase[];
  /** The phase it is in now, from the service's own control store. */
  phase: Phase;
  /** When the phase was last changed; null while pending and never started. */
  since: string | null;
  /** What it waits for in other services. */
  requires: MigrationRequirement[];
}

/** What one live instance reads and writes (from its heartbeat). */
export interface InstanceSchemaEntry {
  instanceId: string;
  build: string;
  /** Per target: the versions it reads and the one it writes now. */
  documents: Record<string, SchemaSupport>;
  /** The other facts it reports (e.g. `auth.jwks-kids`), as its heartbeat says; absent when none. */
  facts?: Record<string, string[]>;
}

/** What a service tells other services about its schema: `GET /.well-known/zdm/schema`. */
export interface ServiceSchemaReport {
  service: string;
  /** The instance that answered. */
  instance: { instanceId: string; build: string; api?: string };
  /** Per target: what the answering instance reads and writes now. */
  documents: Record<string, SchemaSupport>;
  /** Every migration of the service, with its phase. */
  migrations: MigrationSchemaEntry[];
  /** Every live instance of the service, as their heartbeats say. */
  instances: InstanceSchemaEntry[];
  /** When the report was made (ISO 8601). */
  at: string;
}

/**
 * The port through which gates learn another service's schema. Throws when the service cannot be
 * asked (unknown, unreachable, a bad answer); the gate then holds.
 */
export interface ServiceSchemas {
  schemaOf(service: string): Promise<ServiceSchemaReport>;
}

/** What a service's own control store says about one of its migrations. */
export interface MigrationPhaseRecord {
  phase: Phase;
  updatedAt?: Date | null;
}

/** Builds a service's report from its migrations, their stored phases and the live heartbeats. */
export function serviceSchemaReport(input: {
  service: string;
  instance: { instanceId: string; build: string; api?: string };
  documents: Record<string, SchemaSupport>;
  migrations: readonly MigrationDefinition[];
  states: ReadonlyMap<string, MigrationPhaseRecord>;
  heartbeats: readonly InstanceHeartbeat[];
  at?: Date;
}): ServiceSchemaReport {
  return {
    service: input.service,
    instance: input.instance,
    documents: input.documents,
    migrations: input.migrations
      .filter((def) => def.service === input.service)
      .map((def) => {
        const state = input.states.get(def.id);
        return {
          id: def.id,
          description: def.description,
          target: targetName(def.target),
          from: def.from,
          to: def.to,
          strategy: strategyOf(def).kind,
          phases: phasesOf(def),
          phase: state?.phase ?? 'pending',
          since: state?.updatedAt && state.phase !== 'pending' ? new Date(state.updatedAt).toISOString() : null,
          requires: [...(def.requires ?? [])],
        };
      }),
    instances: input.heartbeats
      .filter((hb) => hb.service === input.service)
      .map((hb) => ({ instanceId: hb.instanceId, build: hb.build, documents: hb.schemas, ...(hb.facts ? { facts: hb.facts } : {}) })),
    at: (input.at ?? new Date()).toISOString(),
  };
}

/** The gate's name for one requirement: `requires:<service>/<migration>@<phase>`. */
export function requirementGateName(req: MigrationRequirement): string {
  return `requires:${req.service}/${req.migration}@${req.phase}`;
}

/** True for the gates {@link requirementGates} makes (they hold even the first step out of `pending`). */
export function isRequirementGate(gate: Pick<GateResult, 'gate'>): boolean {
  return gate.gate.startsWith('requires:');
}

/** One requirement against what its service reported (or why it could not be asked). */
export function requirementGate(req: MigrationRequirement, report: ServiceSchemaReport | Error): GateResult {
  const gate = requirementGateName(req);
  const hold = (detail: string): GateResult => ({ gate, ok: false, detail });
  if (report instanceof Error) return hold(`cannot ask ${req.service} (${report.message}); holding until it answers`);
  if (report.service !== req.service) return hold(`asked ${req.service}, but ${report.service} answered; check the URL configured for ${req.service}`);
  const entry = report.migrations.find((m) => m.id === req.migration);
  if (!entry) {
    const known = report.migrations.map((m) => m.id).join(', ') || 'none';
    return hold(`${req.service} reports no migration ${req.migration} (it reports: ${known})`);
  }
  const at = `${req.service} reports ${req.migration} in ${entry.phase}`;
  if (!entry.phases.includes(req.phase)) return hold(`${req.migration} has no phase ${req.phase} (its phases: ${entry.phases.join(' -> ')})`);
  if (entry.phase === 'complete') return { gate, ok: true, detail: at };
  const reached = entry.phases.indexOf(entry.phase);
  if (reached >= 0 && reached >= entry.phases.indexOf(req.phase)) return { gate, ok: true, detail: `${at}, at or past ${req.phase}` };
  return hold(`${at}; needs ${req.phase} or later`);
}

/**
 * The gates of `def`'s requirements: asks each service once through `schemas` and checks every
 * requirement on it. A service that cannot be asked holds the gate (it never opens it); so does a
 * migration with requirements and no `schemas` port configured.
 */
export async function requirementGates(def: Pick<MigrationDefinition, 'requires'>, schemas: ServiceSchemas | undefined): Promise<GateResult[]> {
  const requires = def.requires ?? [];
  if (!requires.length) return [];
  const services = [...new Set(requires.map((r) => r.service))];
  const reports = new Map<string, ServiceSchemaReport | Error>();
  await Promise.all(
    services.map(async (service) => {
      if (!schemas) {
        reports.set(service, new Error('no way to reach other services is configured (give the zdm config a `schemas` port, e.g. HttpServiceSchemas)'));
        return;
      }
      const report = await schemas.schemaOf(service).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      reports.set(service, report);
    }),
  );
  return requires.map((req) => requirementGate(req, reports.get(req.service) as ServiceSchemaReport | Error));
}

/** What is wrong with a migration's `requires`, one sentence each. */
export function requirementProblems(def: Pick<MigrationDefinition, 'service' | 'requires'>): string[] {
  if (def.requires === undefined) return [];
  if (!Array.isArray(def.requires)) return ['requires must be a list of { service, migration, phase }'];
  return def.requires.flatMap((req: Partial<MigrationRequirement>, i) => {
    const problems: string[] = [];
    if (!req?.service || typeof req.service !== 'string') problems.push(`requires[${i}].service must name another service`);
    else if (req.service === def.service) problems.push(`requires[${i}] names its own service ${req.service}; order migrations of one service by their versions instead`);
    if (!req?.migration || typeof req.migration !== 'string') problems.push(`requires[${i}].migration must be a migration id of ${req?.service ?? 'that service'}`);
    if (!PHASES.includes(req?.phase as Phase) || req?.phase === 'pending' || req?.phase === 'rolled-back') {
      problems.push(`requires[${i}].phase must be one of ${PHASES.filter((p) => p !== 'pending' && p !== 'rolled-back').join(', ')}, got ${JSON.stringify(req?.phase)}`);
    }
    return problems;
  });
}

/** Options of {@link HttpServiceSchemas}. */
export interface HttpServiceSchemasOptions {
  /** Base URL of each service the migrations name in `requires`, e.g. `{ customers: 'http://customers:3000' }`. */
  urls: Record<string, string | undefined>;
  /** Longest wait for one answer, in ms. Default 5,000. */
  timeoutMs?: number;
  /** The fetch to call (default: the global one). */
  fetch?: typeof fetch;
}

/** {@link ServiceSchemas} over HTTP: `GET <url>/.well-known/zdm/schema` of each service. */
export class HttpServiceSchemas implements ServiceSchemas {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpServiceSchemasOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async schemaOf(service: string): Promise<ServiceSchemaReport> {
    const base = this.options.urls[service]?.trim();
    if (!base) throw new Error(`no URL configured for ${service}`);
    const url = `${base.replace(/\/+$/, '')}${SCHEMA_PATH}`;
    let res: Response;
    try {
      res = await this.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000) });
    } catch (err) {
      const name = (err as { name?: string } | null)?.name;
      throw new Error(name === 'TimeoutError' ? `${url} did not answer within ${this.options.timeoutMs ?? 5_000} ms` : `${url} cannot be reached`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${url} answered ${res.status}`);
    }
    const body = (await res.json().catch(() => null)) as ServiceSchemaReport | null;
    if (!body || typeof body.service !== 'string' || !Array.isArray(body.migrations)) throw new Error(`${url} answered something that is not a schema report`);
    return body;
  }
}
