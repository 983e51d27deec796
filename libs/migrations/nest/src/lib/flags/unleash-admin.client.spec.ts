import { unreachableUrl } from '../../testing/fake-unleash.server';
import { UnleashAdminError, UnleashFlagAdmin, unleashBaseUrl } from './unleash-admin.client';

describe('UnleashFlagAdmin', () => {
  it('refuses to start without url or token', () => {
    expect(() => new UnleashFlagAdmin({ url: '', token: 't' })).toThrow(/url is required/);
    expect(() => new UnleashFlagAdmin({ url: 'http://x', token: '' })).toThrow(/token is required/);
  });

  it('refuses an empty flag name before calling Unleash', async () => {
    const admin = new UnleashFlagAdmin({ url: 'http://127.0.0.1:1', token: 't' });
    await expect(admin.set('  ', true)).rejects.toThrow('UnleashFlagAdmin: a flag name is required, got "  "');
  });

  it('names the request and the cause when Unleash cannot be reached', async () => {
    const admin = new UnleashFlagAdmin({ url: await unreachableUrl(), token: 't', timeoutMs: 2_000 });
    const err = await admin.set('customers.full-name.write-new', true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnleashAdminError);
    expect((err as Error).message).toMatch(/^Unleash Admin API GET \/api\/admin\/projects\/default\/features\/customers\.full-name\.write-new failed: .*ECONNREFUSED/);
  });

  it('accepts a base URL with or without /api', () => {
    expect(unleashBaseUrl('http://unleash:4242/api/')).toBe('http://unleash:4242');
    expect(unleashBaseUrl('http://unleash:4242')).toBe('http://unleash:4242');
  });
});
