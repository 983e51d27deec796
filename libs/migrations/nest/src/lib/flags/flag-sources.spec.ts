import { customersRegistry } from '../../testing/customers-migrations.fixture';
import { FakeUnleashServer, unreachableUrl } from '../../testing/fake-unleash.server';
import { waitFor } from '@zdm/migrations-core/testing';
import { safeFlagDefaults } from './flag-source.contract';
import { StaticFlagSource } from './static.flag-source';
import { UnleashFlagSource, unleashApiUrl } from './unleash.flag-source';

const W = 'customers.full-name.write-new';
const R = 'customers.full-name.read-new';
const O = 'customers.full-name.write-old';
const defaults = () => safeFlagDefaults(customersRegistry().all());

describe('safe defaults', () => {
  it('choose the oldest path: write-new off, read-new off, write-old on', () => {
    expect(defaults()).toEqual({ [W]: false, [R]: false, [O]: true, 'sessions.device.write-new': false });
  });
});

describe('StaticFlagSource', () => {
  it('tells listeners about real changes only, with the names that changed', () => {
    const flags = new StaticFlagSource(defaults());
    const seen: string[][] = [];
    const off = flags.onChange((_snapshot, changed) => seen.push(changed));
    flags.set(O, true);
    flags.setAll({ [W]: true, [R]: true, [O]: true });
    off();
    flags.set(W, false);
    expect(seen).toEqual([[W, R]]);
    expect(flags.isEnabled(W)).toBe(false);
  });

  it('keeps notifying the other listeners when one of them throws', () => {
    const flags = new StaticFlagSource();
    const heard: boolean[] = [];
    flags.onChange(() => {
      throw new Error('broken listener');
    });
    flags.onChange((snapshot) => heard.push(snapshot['x']));
    flags.set('x', true);
    expect(heard).toEqual([true]);
  });

  it('reads unknown flags as off and builds safe defaults for given migrations', () => {
    const flags = StaticFlagSource.withSafeDefaults(customersRegistry().all(), { [W]: true });
    expect(flags.isEnabled('nope')).toBe(false);
    expect(flags.snapshot()).toEqual({ ...defaults(), [W]: true });
  });
});

describe('UnleashFlagSource', () => {
  const sources: UnleashFlagSource[] = [];
  const open = (url: string) => {
    const source = new UnleashFlagSource({ url, token: 'client-token', appName: 'customers', defaults: defaults(), refreshIntervalMs: 50, timeoutMs: 1_000 });
    sources.push(source);
    return source;
  };
  let server: FakeUnleashServer;

  beforeEach(async () => {
    server = await new FakeUnleashServer().start();
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) s.close();
    await server.stop();
  });

  it('uses the safe defaults while Unleash was never reached', async () => {
    const source = open(await unreachableUrl());
    expect(await source.ready(300)).toBe(false);
    expect(source.snapshot()).toEqual(defaults());
    expect(source.isEnabled(O)).toBe(true);
    expect(source.status()).toMatchObject({ source: 'defaults', connected: false, lastSyncAt: null });
    // unleash-client retries a failed poll twice (about 3 s) before it reports the error.
    expect(await waitFor('the connection error', () => source.status().lastError, 10_000)).toMatch(/ECONNREFUSED/);
    expect(source.snapshot()).toEqual(defaults());
  });

  it('takes the values Unleash serves, announces the changes and sends the token', async () => {
    server.features = { [W]: true, [O]: true };
    const source = open(server.url);
    const changes: string[][] = [];
    source.onChange((_s, changed) => changes.push(changed));
    expect(await source.ready(5_000)).toBe(true);
    expect(source.snapshot()).toEqual({ ...defaults(), [W]: true });
    expect(changes).toEqual([[W]]);
    expect([...server.tokens]).toEqual(['client-token']);
    expect(source.status()).toMatchObject({ source: 'unleash', connected: true });
  });

  it('reads a tracked flag Unleash does not know as its safe default, and an untracked one as served', async () => {
    server.features = { other: true };
    const source = open(server.url);
    await source.ready(5_000);
    expect(source.isEnabled(O)).toBe(true);
    expect(source.isEnabled('other')).toBe(true);
    expect(source.isEnabled('unknown')).toBe(false);
  });

  it('keeps the last-known values while Unleash is unreachable and follows it again when it is back', async () => {
    server.features = { [W]: true, [O]: false };
    const source = open(server.url);
    await waitFor('write-new on', () => source.isEnabled(W), 10_000);
    await server.stop();
    await waitFor('the source to notice Unleash is gone', () => !source.status().connected, 10_000);
    await new Promise((r) => setTimeout(r, 200)); // several failed polls
    expect(source.snapshot()).toEqual({ ...defaults(), [W]: true, [O]: false });
    expect(source.status()).toMatchObject({ source: 'unleash', connected: false });

    server.features = { [W]: true, [R]: true, [O]: false };
    await server.start();
    await waitFor('read-new on after Unleash came back', () => source.isEnabled(R), 10_000);
    expect(source.status().connected).toBe(true);
  });

  it('refuses to start without url or token and accepts a base URL without /api', () => {
    expect(() => new UnleashFlagSource({ url: '', token: 't', appName: 'a', defaults: {} })).toThrow(/url is required/);
    expect(() => new UnleashFlagSource({ url: 'http://x', token: '', appName: 'a', defaults: {} })).toThrow(/token is required/);
    expect(unleashApiUrl('http://unleash:4242/')).toBe('http://unleash:4242/api');
    expect(unleashApiUrl('http://unleash:4242/api/')).toBe('http://unleash:4242/api');
  });
});
