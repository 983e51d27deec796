import { waitFor } from '@zdm/migrations-core/testing';
import { seedCustomers } from '../test/customers.fixture';
import { useTestMongo } from '../test/ferretdb.fixture';
import { inBackfillPhase, startJobChild } from '../test/job-child.fixture';
import { belowVersionFilter } from './mongo.backend';

jest.setTimeout(300_000);

const server = useTestMongo('mongo-job-main');
const runner = (collection: string, owner: string, extra: string[] = []) => startJobChild(server, collection, owner, extra);

describe('mongo-job.main.ts, the runner as a child process', () => {
  it('backfills a collection, printing a line per batch and the result, and exits 0', async () => {
    await seedCustomers(server.db.collection('child_full'), 120);
    await inBackfillPhase(server, 'child_full');
    const child = runner('child_full', 'child-1', ['--batch', '40']);
    expect(await child.exit).toBe(0);
    expect(child.batches().map((l) => l['written'])).toEqual([40, 40, 40, 0]);
    expect(child.result()).toMatchObject({ status: 'done', checkpoint: { processed: 120, written: 120, done: true } });
    expect(await server.db.collection('child_full').countDocuments(belowVersionFilter(2))).toBe(0);
  });

  it('resumes from the checkpoint with the next fencing token after being killed with SIGKILL mid-way', async () => {
    const collection = 'child_killed';
    await seedCustomers(server.db.collection(collection), 200);
    await inBackfillPhase(server, collection);
    const first = runner(collection, 'doomed', ['--batch', '20', '--lease-ms', '1500']);
    await waitFor('three batches', () => first.batches().length >= 3, 120_000, 10);
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    const left = await server.db.collection(collection).countDocuments(belowVersionFilter(2));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(200 - 60);

    await new Promise((r) => setTimeout(r, 1_600));
    const second = runner(collection, 'survivor', ['--batch', '20', '--lease-ms', '1500']);
    expect(await second.exit).toBe(0);
    const checkpoint = second.result()?.['checkpoint'] as { processed: number; written: number };
    expect(second.result()).toMatchObject({ status: 'done', token: 2 });
    expect(checkpoint.written).toBeGreaterThanOrEqual(left);
    // At most the one batch in flight at the kill is processed twice.
    expect(checkpoint.processed).toBeLessThanOrEqual(200 + 20);
    expect(await server.db.collection(collection).countDocuments(belowVersionFilter(2))).toBe(0);
  });

  it('refuses (exit 3, status refused) a job outside its phases, as zdm start does, and writes nothing', async () => {
    const collection = 'child_refused';
    await seedCustomers(server.db.collection(collection), 30);
    const child = runner(collection, 'too-early');
    expect(await child.exit).toBe(3);
    expect(child.result()).toMatchObject({ status: 'refused', phase: 'pending', allowedPhases: ['backfill', 'verify'] });
    expect(child.batches()).toEqual([]);
    expect(await server.db.collection(collection).countDocuments(belowVersionFilter(2))).toBe(30);
  });

  it('explains bad arguments and exits 2', async () => {
    const child = runner('child_full', 'x', ['--job', 'explode']);
    expect(await child.exit).toBe(2);
  });
});
