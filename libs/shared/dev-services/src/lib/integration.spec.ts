import { shouldSkipIntegration, uniqueMongoDbName, uniqueRedisPrefix } from './integration';

describe('integration helpers', () => {
  const saved = { CI: process.env.CI, skip: process.env.ZDM_SKIP_INTEGRATION };
  afterEach(() => {
    for (const [key, value] of [['CI', saved.CI], ['ZDM_SKIP_INTEGRATION', saved.skip]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('skips only when asked explicitly, and never under CI=true', () => {
    delete process.env.CI;
    delete process.env.ZDM_SKIP_INTEGRATION;
    expect(shouldSkipIntegration()).toBe(false);
    process.env.ZDM_SKIP_INTEGRATION = '1';
    expect(shouldSkipIntegration()).toBe(true);
    process.env.CI = 'true';
    expect(shouldSkipIntegration()).toBe(false);
  });

  it('makes unique, valid database names and key prefixes', () => {
    const a = uniqueMongoDbName('Orders: backfill/v2 with a very long label indeed');
    const b = uniqueMongoDbName('Orders: backfill/v2 with a very long label indeed');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^zdm_orders_backfill_v2_with_[a-z0-9]+_[0-9a-f]{8}$/);
    expect(Buffer.byteLength(a)).toBeLessThan(64);
    expect(uniqueMongoDbName()).toMatch(/^zdm_integration_/); // from this spec file's name
    expect(uniqueRedisPrefix('cache')).toMatch(/^zdm:cache_[a-z0-9]+_[0-9a-f]{8}:$/);
  });
});
