import { authRegistry, usersReadRange } from '@zdm/auth-domain';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'releases', 'auth-hub.json'), 'utf8'));

describe('the auth hub release manifest', () => {
  it('records what this build reads and writes and which migrations it registers, as its registry says', () => {
    const registry = authRegistry();
    const { readMin, readMax } = usersReadRange(registry);
    expect(manifest.releases.v2).toMatchObject({ commit: 'HEAD', reads: [readMin, readMax], writes: [1, 2] });
    expect(manifest.releases.v2.migrations).toEqual(registry.all().map((d) => d.id));
  });
});
