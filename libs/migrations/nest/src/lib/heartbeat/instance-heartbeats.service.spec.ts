import { HeartbeatStore, createInMemoryControlStore } from '@zdm/migrations-core';
import { StaticFlagSource } from '../flags/static.flag-source';
import { customersRegistry } from '../../testing/customers-migrations.fixture';
import { ManualClock, waitFor } from '@zdm/migrations-core/testing';
import { InstanceFacts } from '@zdm/service-defaults';
import { InstanceHeartbeats } from './instance-heartbeats.service';
import { BuildSchemas, defaultReadRanges } from './build-schemas.service';

const W = 'customers.full-name.write-new';
const identity = { service: 'customers', instanceId: 'customers-1', build: 'v2' };

/** The time of the store and of the heartbeats: it moves only when a spec advances it. */
let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock();
});

function setup(store: HeartbeatStore = createInMemoryControlStore({ clock }).heartbeats, intervalMs = 40, facts?: InstanceFacts) {
  const registry = customersRegistry();
  const flags = StaticFlagSource.withSafeDefaults(registry.all());
  const schemas = new BuildSchemas(registry, defaultReadRanges(registry, 'customers'), flags);
  const heartbeats = new InstanceHeartbeats(store, identity, schemas, { intervalMs, clock, facts });
  return { store, flags, schemas, heartbeats };
}

describe('InstanceHeartbeats', () => {
  it('writes a heartbeat at start with the schemas the build supports and the flags it sees', async () => {
    const { store, heartbeats } = setup();
    await heartbeats.start();
    const [hb] = await store.live();
    expect(hb).toMatchObject({
      ...identity,
      schemas: { customers: { readMin: 1, readMax: 2, writes: 1 }, 'session:*': { readMin: 1, readMax: 2, writes: 1 } },
      flags: { [W]: false, 'customers.full-name.write-old': true },
    });
    await heartbeats.stop();
  });

  it('beats at once when a flag changes, reporting the new write version', async () => {
    const { store, flags, heartbeats } = setup(undefined, 60_000);
    await heartbeats.start();
    flags.set(W, true);
    const hb = await waitFor('a heartbeat writing v2', async () => (await store.live()).find((h) => h.schemas['customers'].writes === 2), 10_000);
    expect(hb?.flags[W]).toBe(true);
    await heartbeats.stop();
  });

  it('reports the facts other modules register, and beats at once when one changes', async () => {
    const facts = new InstanceFacts();
    let kids = ['k1'];
    facts.register('auth.jwks-kids', () => kids);
    const { store, heartbeats } = setup(undefined, 60_000, facts);
    await heartbeats.start();
    expect((await store.live())[0].facts).toEqual({ 'auth.jwks-kids': ['k1'] });
    kids = ['k1', 'k2'];
    facts.changed();
    const hb = await waitFor('a heartbeat with k2', async () => (await store.live()).find((h) => h.facts?.['auth.jwks-kids']?.includes('k2')), 10_000);
    expect(hb?.facts).toEqual({ 'auth.jwks-kids': ['k1', 'k2'] });
    await heartbeats.stop();
  });

  it('leaves facts out of the heartbeat when none is registered', async () => {
    const { store, heartbeats } = setup(undefined, 60_000, new InstanceFacts());
    await heartbeats.start();
    expect((await store.live())[0]).not.toHaveProperty('facts');
    await heartbeats.stop();
  });

  it('keeps beating every interval, so the heartbeat stays live past its ttl', async () => {
    const { store, heartbeats } = setup(undefined, 30);
    await heartbeats.start();
    const first = heartbeats.last()?.at.getTime() ?? 0;
    await clock.advance(30);
    expect(heartbeats.last()?.at.getTime()).toBe(first + 30);
    await clock.advance(heartbeats.ttlMs + 20);
    expect(await store.live()).toHaveLength(1);
    await heartbeats.stop();
  });

  it('removes the heartbeat on stop and writes none afterwards, even when flags change', async () => {
    const { store, flags, heartbeats } = setup();
    await heartbeats.start();
    await heartbeats.stop();
    flags.set(W, true);
    expect(await heartbeats.beat()).toBeNull();
    await clock.advance(100);
    expect(clock.pending).toBe(0);
    expect(await store.live()).toEqual([]);
  });

  it('survives a store that fails for a while and beats again once it is back', async () => {
    const inner = createInMemoryControlStore({ clock }).heartbeats;
    let failures = 3;
    const flaky: HeartbeatStore = {
      ...inner,
      beat: async (hb, ttl) => {
        if (failures-- > 0) throw new Error('store down');
        await inner.beat(hb, ttl);
      },
    };
    const { heartbeats } = setup(flaky, 20);
    await heartbeats.start();
    expect(heartbeats.last()).toBeNull();
    await clock.advance(40);
    expect(await inner.live()).toEqual([]);
    await clock.advance(20);
    expect(await inner.live()).toHaveLength(1);
    await heartbeats.stop();
  });

  it('refuses a ttl that is not longer than the interval', () => {
    const { store, schemas } = setup();
    expect(() => new InstanceHeartbeats(store, identity, schemas, { intervalMs: 1000, ttlMs: 1000 })).toThrow(
      'heartbeat ttlMs (1000) must be longer than intervalMs (1000)',
    );
  });
});
