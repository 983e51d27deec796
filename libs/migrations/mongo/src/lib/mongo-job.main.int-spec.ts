import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { childMigrationId } from '../test/child-migrations.fixture';
import { seedCustomers } from '../test/customers.fixture';
import { useTestMongo } from '../test/ferretdb.fixture';
import { belowVersionFilter } from './mongo.backend';

jest.setTimeout(300_000);

const server = useTestMongo('mongo-job-main');
const root = resolve(__dirname, '../../../../..');
const main = resolve(__dirname, '../bin/mongo-job.main.ts');
const migrations = resolve(__dirname, '../test/child-migrations.fixture.ts');

interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

function runner(collection: string, owner: string, extra: string[] = []): Child {
  const proc = spawn(
    resolve(root, 'node_modules/.bin/node'),
    ['-r', '@swc-node/register', main, '--url', server.url, '--db', server.dbName, '--migrations', migrations, '--id', childMigrationId(collection), '--owner', owner, ...extra],
    { cwd: root, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', ZDM_TEST_COLLECTION: collection }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk) => {
    buffered += String(chunk);
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  proc.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const exit = new Promise<number | null>((done) =>
    proc.once('exit', (code) => {
      if (code !== 0 && code !== null && stderr) process.stderr.write(stderr);
      done(code);
    }),
  );
  return { proc, lines, exit };
}

async function until(what: string, holds: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const result = (child: Child) => child.lines.find((l) => l['event'] === 'result');

describe('mongo-job.main.ts, the runner as a child process (FerretDB)', () => {
  it('backfills a collection, printing a line per batch and the result, and exits 0', async () => {
    await seedCustomers(server.db.collection('child_full'), 120);
    const child = runner('child_full', 'child-1', ['--batch', '40']);
    expect(await child.exit).toBe(0);
    expect(child.lines.filter((l) => l['event'] === 'batch').map((l) => l['written'])).toEqual([40, 40, 40, 0]);
    expect(result(child)).toMatchObject({ status: 'done', checkpoint: { processed: 120, written: 120, done: true } });
    expect(await server.db.collection('child_full').countDocuments(belowVersionFilter(2))).toBe(0);
  });

  it('resumes from the checkpoint with the next fencing token after being killed with SIGKILL mid-way', async () => {
    const collection = 'child_killed';
    await seedCustomers(server.db.collection(collection), 200);
    const first = runner(collection, 'doomed', ['--batch', '20', '--lease-ms', '1500']);
    await until('three batches', () => first.lines.filter((l) => l['event'] === 'batch').length >= 3);
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    const left = await server.db.collection(collection).countDocuments(belowVersionFilter(2));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(200 - 60);

    await new Promise((r) => setTimeout(r, 1_600));
    const second = runner(collection, 'survivor', ['--batch', '20', '--lease-ms', '1500']);
    expect(await second.exit).toBe(0);
    const checkpoint = (result(second) as { checkpoint: { processed: number; written: number } }).checkpoint;
    expect(result(second)).toMatchObject({ status: 'done', token: 2 });
    expect(checkpoint.written).toBeGreaterThanOrEqual(left);
    // At most the one batch in flight at the kill is processed twice.
    expect(checkpoint.processed).toBeLessThanOrEqual(200 + 20);
    expect(await server.db.collection(collection).countDocuments(belowVersionFilter(2))).toBe(0);
  });

  it('explains bad arguments and exits 2', async () => {
    const child = runner('child_full', 'x', ['--job', 'explode']);
    expect(await child.exit).toBe(2);
  });
});
