import { integrationServices } from '@zdm/dev-services';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import config, { connect } from '../zdm.config';

jest.setTimeout(60_000);

const services = integrationServices(['mongo']);
const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('the zdm config of the customers service', () => {
  it('registers both migrations of the service explicitly', () => {
    expect(config.service).toBe('customers');
    expect(config.migrations.map((m) => m.id)).toEqual(['customers.full-name', 'customers.status']);
  });

  it('names the missing variable instead of connecting somewhere by default', async () => {
    await expect(connect({})).rejects.toThrow('MONGO_URL is required by the customers zdm config');
    await expect(connect({ MONGO_URL: services.mongo.url, UNLEASH_URL: 'http://127.0.0.1:1' })).rejects.toThrow('UNLEASH_ADMIN_TOKEN is required');
  });

  it('drives the zdm CLI: plan counts the v1 customers and says which strategy each migration takes', async () => {
    const db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    try {
      await db.collection('customers').insertMany([1, 2, 3].map((i) => ({ _v: 1, _rev: 1, firstName: `F${i}`, lastName: 'L' })));
    } finally {
      await db.close();
    }
    const { stdout } = await promisify(execFile)(
      path.join(ROOT, 'node_modules', '.bin', 'node'),
      [path.join(ROOT, 'tools', 'scripts', 'run-ts.mjs'), 'apps/zdm/src/main.ts', '--config', 'apps/customers/zdm.config.ts', '--json', 'plan'],
      { cwd: ROOT, env: { PATH: process.env.PATH, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName } },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(result).toMatchObject({ command: 'plan', ok: true });
    const [fullName, status] = result.plans;
    expect(fullName).toMatchObject({ id: 'customers.full-name', strategy: 'expand-contract', affected: 3, reversible: true });
    expect(fullName.phases.map((p: { phase: string }) => p.phase)).toEqual(['expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete']);
    expect(status).toMatchObject({ id: 'customers.status', strategy: 'additive', reversible: true });
    expect(status.phases.find((p: { phase: string }) => p.phase === 'backfill').does).toMatch(/the runner rewrites every v2 document to v3/);
  });
});
