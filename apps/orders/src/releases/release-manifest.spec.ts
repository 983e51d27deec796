import { ordersReadRange, ordersRegistry } from '@zdm/orders-domain';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'releases', 'orders.json'), 'utf8'));

describe('the orders release manifest', () => {
  it('records v1 as a commit of this repository that reads and writes v1 only', () => {
    const { commit, reads, writes, migrations } = manifest.releases.v1;
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(execFileSync('git', ['cat-file', '-t', commit], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('commit');
    expect(execFileSync('git', ['cat-file', '-t', `${commit}:apps/orders/src/main.ts`], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('blob');
    expect({ reads, writes, migrations }).toEqual({ reads: [1, 1], writes: [1], migrations: [] });
  });

  it('records what this build reads and which migrations it registers, as its registry says', () => {
    const { readMin, readMax } = ordersReadRange(ordersRegistry());
    expect(manifest.releases.v2).toMatchObject({ commit: 'HEAD', reads: [readMin, readMax] });
    expect(manifest.releases.v2.migrations).toEqual(ordersRegistry().all().map((d) => d.id));
  });

  it('names the variables the service will not start without', () => {
    expect(manifest.env).toEqual(['MONGO_URL', 'CUSTOMERS_URL']);
  });
});
