import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { shouldSkipIntegration, waitFor } from '../index';
import type { HeldServices } from './fixtures/hold-services';

const FIXTURE = path.join(__dirname, 'fixtures', 'hold-services.ts');
const ROOT = path.resolve(__dirname, '../../../../..');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
};

/** pids of processes whose command line mentions `text` (e.g. a service's temp dir). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

(shouldSkipIntegration() ? describe.skip : describe)('local process cleanup', () => {
  it('removes servers, their process groups and temp dirs when the parent is SIGKILLed', async () => {
    const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before reporting`)));
    });
    const held = JSON.parse(firstLine) as HeldServices;
    const entries = Object.entries(held.services);
    console.info(`[smoke] cleanup test holds: ${entries.map(([n, s]) => `${n}=${s.description}`).join(', ')}` +
      (Object.keys(held.failures).length ? `; not available locally: ${Object.keys(held.failures).join(', ')}` : ''));
    expect(entries.length).toBeGreaterThan(0);
    for (const [, s] of entries) {
      expect(alive(s.pid)).toBe(true);
      expect(alive(s.supervisorPid)).toBe(true);
      expect(processesMentioning(s.dir).length).toBeGreaterThan(0);
    }

    child.kill('SIGKILL');

    for (const [name, s] of entries) {
      const cleaned = () => !alive(s.supervisorPid) && !alive(-s.pid) && processesMentioning(s.dir).length === 0 && !existsSync(s.dir);
      await waitFor(`${name} to be cleaned up`, cleaned, 20_000, 100).catch(() => {
        throw new Error(`${name} not cleaned up: group alive=${alive(-s.pid)}, processes=${processesMentioning(s.dir)}, dir exists=${existsSync(s.dir)}`);
      });
    }
  }, 240_000);
});
