import { MigrationStatus } from '@zdm/migrations-core';
import { renderStatus, renderStatusList } from './render';

const status = (overrides: Partial<MigrationStatus> = {}): MigrationStatus => ({
  id: 'auth.password-hash',
  description: 'password hashes rehashed at login',
  phase: 'backfill',
  next: 'verify',
  gates: [{ gate: 'no-old-version-left', ok: false, detail: '1,250 document(s) still below v2' }],
  counts: { belowTarget: 1250, withOldFields: 0, quarantined: 0 },
  instances: [],
  command: 'run',
  verify: null,
  lazy: { remaining: 1250, upgradedWhen: "at the user's next successful login" },
  ...overrides,
});

describe('status rendering of a lazy-only migration', () => {
  it('says how many documents are left to upgrade, when they are upgraded, and how to expire the rest', () => {
    const text = renderStatus(status(), {}, 'users');
    expect(text).toContain("  lazy     1,250 left to upgrade at the user's next successful login (no backfill); after the deadline: zdm lazy expire auth.password-hash --before <deadline>");
    expect(text).toContain('    FAIL  no-old-version-left        1,250 document(s) still below v2');
  });

  it('counts them in the one-line list too, and says nothing of the kind for other strategies', () => {
    expect(renderStatusList([status()])).toContain('auth.password-hash               backfill      run    waiting on no-old-version-left · lazy-only: 1,250 left to upgrade');
    const other = renderStatus(status({ id: 'customers.full-name', lazy: null }), {}, 'customers');
    expect(other).not.toContain('lazy');
    expect(renderStatusList([status({ lazy: null })])).not.toContain('lazy-only');
  });
});
