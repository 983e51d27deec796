import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MigrationBackend, ZdmConfig, ZdmConnection } from '@zdm/migrations-core';
import { MigrationDefinitionError } from '@zdm/migrations-core';
import { ConfigError } from './lib/exit-codes';

export { defineConfig } from '@zdm/migrations-core';
export type { ZdmConfig, ZdmConnection } from '@zdm/migrations-core';

/** Every shape problem of a config value; empty when it is usable. */
export function configProblems(value: unknown): string[] {
  if (!value || typeof value !== 'object') return [`the module must export a config object, got ${value === null ? 'null' : typeof value}`];
  const c = value as Partial<ZdmConfig>;
  const problems: string[] = [];
  if (typeof c.service !== 'string' || !c.service) problems.push('service must be a non-empty string');
  if (!Array.isArray(c.migrations)) problems.push('migrations must be an array of migration definitions');
  else c.migrations.forEach((d, i) => (!d || typeof d !== 'object') && problems.push(`migrations[${i}] must be a migration definition, got ${d === null ? 'null' : typeof d}`));
  if (typeof c.connect !== 'function') problems.push('connect must be a function returning { backend, flags?, close }');
  if (c.minInstances !== undefined && !(Number.isInteger(c.minInstances) && c.minInstances >= 0)) {
    problems.push(`minInstances must be an integer >= 0, got ${JSON.stringify(c.minInstances)}`);
  }
  if (c.leaseTtlMs !== undefined && !(typeof c.leaseTtlMs === 'number' && c.leaseTtlMs > 0)) {
    problems.push(`leaseTtlMs must be a positive number, got ${JSON.stringify(c.leaseTtlMs)}`);
  }
  if (c.throttle !== undefined && (typeof c.throttle !== 'object' || c.throttle === null)) problems.push('throttle must be an object');
  if (typeof c.service === 'string' && Array.isArray(c.migrations)) {
    for (const def of c.migrations) {
      if (def && typeof def === 'object' && def.service && def.service !== c.service) {
        problems.push(`migration ${def.id} belongs to service "${def.service}", but this config is for "${c.service}"`);
      }
    }
  }
  return problems;
}

/** Checks what `connect()` returned. */
export function connectionProblems(value: unknown): string[] {
  const c = value as Partial<ZdmConnection> | null | undefined;
  const problems: string[] = [];
  if (!c || typeof c !== 'object') return ['connect() must resolve to { backend, flags?, close }'];
  const b = c.backend as Partial<MigrationBackend> | undefined;
  if (!b || typeof b.counts !== 'function' || typeof b.target !== 'function' || typeof b.sample !== 'function' || !b.store) {
    problems.push('connect() must return a backend with store, counts(), target() and sample()');
  }
  if (typeof c.close !== 'function') problems.push('connect() must return a close() function');
  if (c.flags !== undefined && typeof c.flags?.set !== 'function') problems.push('flags, when given, must have set(flag, enabled)');
  if (c.schemas !== undefined && typeof c.schemas?.schemaOf !== 'function') problems.push('schemas, when given, must have schemaOf(service) (e.g. HttpServiceSchemas)');
  return problems;
}

/** Which config file to use: `--config` first, then `ZDM_CONFIG`. */
export function configPath(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const file = option ?? env['ZDM_CONFIG'];
  if (!file) throw new ConfigError('no config given: pass --config <file> or set ZDM_CONFIG');
  return file;
}

/**
 * Loads a config module by path (TypeScript works when the CLI runs under @swc-node/register,
 * as `npm run zdm` does) and checks its shape.
 */
export async function loadConfig(file: string, cwd = process.cwd()): Promise<ZdmConfig> {
  const abs = resolve(cwd, file);
  if (!existsSync(abs)) throw new ConfigError(`config file not found: ${abs}`);
  let mod: unknown;
  try {
    mod = require(abs);
  } catch (err) {
    if (err instanceof MigrationDefinitionError) throw err;
    throw new ConfigError(`cannot load config ${abs}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const exported = mod as { default?: unknown; config?: unknown } | null;
  let value: unknown = exported?.default ?? exported?.config ?? exported;
  if (typeof value === 'function') value = await (value as () => unknown)();
  const problems = configProblems(value);
  if (problems.length) throw new ConfigError(`invalid config ${abs}:\n` + problems.map((p) => `  - ${p}`).join('\n'));
  return value as ZdmConfig;
}
