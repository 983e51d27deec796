import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationDefinitionError } from '@zdm/migrations-core';
import { configPath, configProblems, connectionProblems, loadConfig } from './config';
import { ConfigError } from './lib/exit-codes';

const okConfig = { service: 'customers', migrations: [], connect: async () => ({}) };

describe('config shape', () => {
  it('accepts a minimal config', () => {
    expect(configProblems(okConfig)).toEqual([]);
  });

  it('names every problem of a bad config', () => {
    expect(configProblems({ service: '', migrations: {}, minInstances: -1, leaseTtlMs: 0, throttle: 3 })).toEqual([
      'service must be a non-empty string',
      'migrations must be an array of migration definitions',
      'connect must be a function returning { backend, flags?, close }',
      'minInstances must be an integer >= 0, got -1',
      'leaseTtlMs must be a positive number, got 0',
      'throttle must be an object',
    ]);
    expect(configProblems({ ...okConfig, migrations: [null, 3] })).toEqual([
      'migrations[0] must be a migration definition, got null',
      'migrations[1] must be a migration definition, got number',
    ]);
    expect(configProblems(undefined)).toEqual(['the module must export a config object, got undefined']);
  });

  it('refuses a migration of another service', () => {
    expect(configProblems({ ...okConfig, migrations: [{ id: 'orders.x', service: 'orders' }] })).toEqual([
      'migration orders.x belongs to service "orders", but this config is for "customers"',
    ]);
  });

  it('checks what connect() returned', () => {
    expect(connectionProblems(null)).toEqual(['connect() must resolve to { backend, flags?, close }']);
    expect(connectionProblems({ backend: {}, flags: {}, schemas: {} })).toEqual([
      'connect() must return a backend with store, counts(), target() and sample()',
      'connect() must return a close() function',
      'flags, when given, must have set(flag, enabled)',
      'schemas, when given, must have schemaOf(service) (e.g. HttpServiceSchemas)',
    ]);
  });

  it('prefers --config over ZDM_CONFIG and needs one of them', () => {
    expect(configPath('a.ts', { ZDM_CONFIG: 'b.ts' })).toBe('a.ts');
    expect(configPath(undefined, { ZDM_CONFIG: 'b.ts' })).toBe('b.ts');
    expect(() => configPath(undefined, {})).toThrow(ConfigError);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'zdm-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, body: string) => (writeFileSync(join(dir, name), body), name);

  it('loads a module exporting the config itself, as default, or from a function', async () => {
    const body = "{ service: 's', migrations: [], connect: async () => ({}) }";
    expect((await loadConfig(write('plain.js', `module.exports = ${body};`), dir)).service).toBe('s');
    expect((await loadConfig(write('default.js', `exports.default = ${body};`), dir)).service).toBe('s');
    expect((await loadConfig(write('factory.js', `exports.default = async () => (${body});`), dir)).service).toBe('s');
  });

  it('explains a missing file, a module that throws, and a wrong shape', async () => {
    await expect(loadConfig('nope.js', dir)).rejects.toThrow(`config file not found: ${join(dir, 'nope.js')}`);
    await expect(loadConfig(write('throws.js', "throw new Error('no MONGO_URL');"), dir)).rejects.toThrow(/cannot load config .*throws\.js: no MONGO_URL/);
    await expect(loadConfig(write('shape.js', "module.exports = { service: 's' };"), dir)).rejects.toThrow(/invalid config .*shape\.js:\n {2}- migrations must be an array/);
  });

  it('passes a definition error thrown while loading through unchanged', async () => {
    const file = write('defs.js', "const { MigrationRegistry } = require('@zdm/migrations-core'); MigrationRegistry.create([{ id: 'Bad Id' }]);");
    await expect(loadConfig(file, dir)).rejects.toBeInstanceOf(MigrationDefinitionError);
  });
});
