import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from './lib/exit-codes';
import { SpawnZdmOptions, spawnZdm } from './testing/spawn-zdm.fixture';
import { FixtureScenario, fullName } from './testing/zdm.config.fixture';

const ID = fullName.id;
const CONFIG = ['--config', 'apps/zdm/src/testing/zdm.config.fixture.ts'];
const zdm = (args: string[], scenario: FixtureScenario = {}, onLine?: SpawnZdmOptions['onLine']) =>
  spawnZdm([...CONFIG, ...args], { env: { ZDM_FIXTURE: JSON.stringify({ docs: 400, batchSize: 50, ...scenario }) }, onLine });

jest.setTimeout(60_000);

describe('zdm as a child process (Node 24 + @swc-node/register)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'zdm-e2e-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const dumps = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { before: unknown; after: unknown };

  it('prints the exit-code table with --help and exits 0', async () => {
    const run = await zdm(['--help']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('4  the job\'s lease is held by another runner');
  });

  it('prints status as JSON lines when stdout is not a terminal', async () => {
    const run = await zdm(['status', ID], { phase: 'backfill', instances: ['new'] });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.lines).toHaveLength(1);
    expect(run.result).toMatchObject({ event: 'result', command: 'status', ok: true, phase: 'backfill', counts: { belowTarget: 400 } });
  });

  it('plan writes nothing to the control store or the data, while start does', async () => {
    const planDump = join(dir, 'plan.json');
    const plan = await zdm(['plan'], { phase: 'backfill', instances: ['new'], bad: 2, quarantine: 'bad', dumpFile: planDump });
    expect(plan.code).toBe(ExitCode.ok);
    expect(plan.result['plans']).toEqual([expect.objectContaining({ id: ID, affected: 400 })]);
    const p = dumps(planDump);
    expect(p.after).toEqual(p.before);

    const startDump = join(dir, 'start.json');
    await zdm(['start', ID], { phase: 'backfill', instances: ['new'], dumpFile: startDump });
    const s = dumps(startDump);
    expect(s.after).not.toEqual(s.before);
  });

  it('start --json prints progress lines and a final result, and exits 0', async () => {
    const run = await zdm(['start', ID, '--json'], { phase: 'backfill', instances: ['new'] });
    expect(run.code).toBe(ExitCode.ok);
    const progress = run.lines.filter((l) => l['event'] === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(8);
    for (const p of progress) expect(p).toEqual(expect.objectContaining({ id: ID, job: 'backfill', done: expect.any(Number), total: expect.any(Number), ratePerSec: expect.any(Number) }));
    expect(progress.map((p) => p['done'])).toEqual([...progress.map((p) => p['done'] as number)].sort((a, b) => a - b));
    expect(run.result).toMatchObject({ event: 'result', command: 'start', ok: true, exitCode: 0, status: 'done', written: 400 });
  });

  it('advance is refused with exit 3 naming the failing gates', async () => {
    const run = await zdm(['advance', ID], { phase: 'expand', instances: ['new', 'old'] });
    expect(run.code).toBe(ExitCode.refused);
    expect(run.result).toMatchObject({ ok: false, exitCode: 3, failingGates: [{ gate: 'all-instances-read-new', detail: 'not yet: customers-2 (build-v1)' }] });
  });

  it('an invalid definition exits 2 naming the migration', async () => {
    const run = await zdm(['status'], { invalid: true });
    expect(run.code).toBe(ExitCode.usage);
    expect(run.result['error']).toContain('customers.broken: a step must go from n to n+1');
  });

  it('quarantine list exits 6 when not empty; retry exits 0 once fixed and 6 while broken', async () => {
    expect((await zdm(['quarantine', 'list', ID], { bad: 3, quarantine: 'bad' })).code).toBe(ExitCode.quarantine);
    expect((await zdm(['quarantine', 'list', ID])).code).toBe(ExitCode.ok);
    expect((await zdm(['quarantine', 'retry', ID], { phase: 'backfill', quarantine: 'fixed' })).code).toBe(ExitCode.ok);
    expect((await zdm(['quarantine', 'retry', ID], { phase: 'backfill', bad: 3, quarantine: 'bad' })).code).toBe(ExitCode.quarantine);
  });

  it('SIGINT stops the runner between batches with exit 5 and the checkpoint kept', async () => {
    let signalled = false;
    const run = await zdm(['start', ID], { phase: 'backfill', pauseMs: 50 }, (line, kill) => {
      if (line['event'] === 'progress' && !signalled) {
        signalled = true;
        kill('SIGINT');
      }
    });
    expect(run.code).toBe(ExitCode.stopped);
    expect(run.stderr).toContain('SIGINT: stopping after the current batch');
    expect(run.result).toMatchObject({ status: 'stopped', exitCode: 5 });
    expect(run.result['processed']).toBeLessThan(400);
  });
});
