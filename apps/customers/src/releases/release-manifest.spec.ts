import { customersReadRange, customersRegistry } from '@zdm/customers-domain';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'releases', 'customers.json'), 'utf8'));

describe('the customers release manifest', () => {
  it('records v1 as a commit of this repository that reads v1 only', () => {
    const { commit, reads } = manifest.releases.v1;
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(execFileSync('git', ['cat-file', '-t', commit], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('commit');
    expect(reads).toEqual([1, 1]);
  });

  it('records what this build reads, as its registry says', () => {
    const { readMin, readMax } = customersReadRange(customersRegistry());
    expect(manifest.releases.v2.reads).toEqual([readMin, readMax]);
    expect(manifest.releases.v2.migrations).toEqual(customersRegistry().all().map((d) => d.id));
  });

  it('makes materialize fail naming the problem for an unknown release or a non-empty directory', () => {
    const script = path.join(ROOT, 'tools', 'releases', 'materialize.mjs');
    const dir = mkdtempSync(path.join(tmpdir(), 'zdm-materialize-'));
    try {
      const unknown = spawnSync(process.execPath, [script, 'customers', 'v9', path.join(dir, 'out')], { encoding: 'utf8' });
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain('materialize: customers has no release "v9"; known: v1, v2');
      const notEmpty = spawnSync(process.execPath, [script, 'customers', 'v1', ROOT], { encoding: 'utf8' });
      expect(notEmpty.status).toBe(1);
      expect(notEmpty.stderr).toContain('is not empty; give a new directory');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
