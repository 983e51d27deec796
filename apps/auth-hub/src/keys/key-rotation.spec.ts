import { createInMemoryControlStore, type InstanceHeartbeat, type ServiceSchemaReport } from '@zdm/migrations-core';
import { HUB_FACTS, KeyRotation, KeyRotationRefusedError, keyUseOf, nextRotationPhase, rotationGates, type KeyRotationState, type KeyRotationStore, type RotationGateInput } from './key-rotation';

const at = new Date('2026-12-04T12:00:00Z');
const state = (patch: Partial<KeyRotationState> = {}): KeyRotationState => ({
  id: 'auth.signing-key',
  phase: 'expand',
  from: 'k1',
  to: 'k2',
  revision: 1,
  startedAt: at,
  switchSeenAt: null,
  updatedAt: at,
  ...patch,
});
const hub = (instanceId: string, facts: Partial<Record<keyof typeof HUB_FACTS, string[]>>): InstanceHeartbeat => ({
  service: 'auth-hub',
  instanceId,
  build: 'auth-hub-v2',
  schemas: {},
  flags: {},
  facts: Object.fromEntries(Object.entries(facts).map(([k, v]) => [HUB_FACTS[k as keyof typeof HUB_FACTS], v])),
  at,
});
const input = (patch: Partial<RotationGateInput>): RotationGateInput => ({
  state: state(),
  hubs: [],
  verifiers: new Map(),
  maxTokenTtlSeconds: 300,
  clockToleranceSeconds: 5,
  now: at,
  ...patch,
});
const failing = (i: RotationGateInput) => rotationGates(i).filter((g) => !g.ok).map((g) => `${g.gate}: ${g.detail}`);

describe('what a hub signs with and publishes', () => {
  it('is its default key alone before any rotation', () => {
    expect(keyUseOf(null, 'k1')).toEqual({ signing: 'k1', published: ['k1'] });
  });

  it('publishes both keys from expand until contract, and signs with the new one from switch', () => {
    expect(keyUseOf(state({ phase: 'expand' }), 'k1')).toEqual({ signing: 'k1', published: ['k1', 'k2'] });
    expect(keyUseOf(state({ phase: 'switch' }), 'k1')).toEqual({ signing: 'k2', published: ['k1', 'k2'] });
    expect(keyUseOf(state({ phase: 'contract' }), 'k1')).toEqual({ signing: 'k2', published: ['k2'] });
    expect(keyUseOf(state({ phase: 'complete' }), 'k1')).toEqual({ signing: 'k2', published: ['k2'] });
  });

  it('walks expand, switch, contract, complete', () => {
    expect([nextRotationPhase('expand'), nextRotationPhase('switch'), nextRotationPhase('contract'), nextRotationPhase('complete')]).toEqual(['switch', 'contract', 'complete', null]);
  });
});

describe('the gates of a signing-key rotation', () => {
  const ready = hub('hub-1', { ring: ['k1', 'k2'], published: ['k1', 'k2'], signing: ['k1'] });

  it('leave expand only when every hub publishes the new key and every live verifier instance has fetched it', () => {
    const verifiers = new Map([['orders', [{ instanceId: 'o-1', build: 'v2', facts: { 'auth.jwks-kids': ['k1', 'k2'] } }, { instanceId: 'o-2', build: 'v2', facts: { 'auth.jwks-kids': ['k1'] } }]]]);
    expect(failing(input({ hubs: [ready], verifiers }))).toEqual(['verifiers-fetched-new-key:orders: orders: auth.jwks-kids must include k2; not yet: o-2 (v2) reports auth.jwks-kids [k1]']);
    verifiers.set('orders', [{ instanceId: 'o-1', build: 'v2', facts: { 'auth.jwks-kids': ['k1', 'k2'] } }]);
    expect(failing(input({ hubs: [ready], verifiers }))).toEqual([]);
  });

  it('hold in expand while a verifying service cannot be asked, or a hub lacks the new key or still publishes the old set', () => {
    const verifiers = new Map([['customers', new Error('http://127.0.0.1:1/.well-known/zdm/schema cannot be reached')]]);
    const stale = hub('hub-2', { ring: ['k1'], published: ['k1'], signing: ['k1'] });
    expect(failing(input({ hubs: [ready, stale], verifiers }))).toEqual([
      'hubs-hold-new-key: auth-hub: auth.signing-keys must include k2; not yet: hub-2 (auth-hub-v2) reports auth.signing-keys [k1]',
      'hubs-publish-new-key: auth-hub: auth.published-kids must include k2; not yet: hub-2 (auth-hub-v2) reports auth.published-kids [k1]',
      'verifiers-fetched-new-key:customers: cannot ask customers (http://127.0.0.1:1/.well-known/zdm/schema cannot be reached); holding until it answers',
    ]);
    expect(failing(input({ hubs: [] }))[0]).toMatch(/^hubs-hold-new-key: 0 live instance\(s\) of auth-hub, need at least 1/);
  });

  it('leave switch only when every hub signs with the new key and the longest token lifetime has passed since, naming the time left', () => {
    const signingNew = hub('hub-1', { signing: ['k2'] });
    expect(failing(input({ state: state({ phase: 'switch' }), hubs: [hub('hub-1', { signing: ['k1'] })] }))).toEqual([
      'hubs-sign-with-new-key: auth-hub: auth.signing-kid must be k2; not yet: hub-1 (auth-hub-v2) reports auth.signing-kid [k1]',
      'old-tokens-expired: the clock starts once every hub signs with k2; then 305 s (the longest access-token lifetime plus clock tolerance)',
    ]);
    const seen = state({ phase: 'switch', switchSeenAt: new Date(at.getTime() - 100_000) });
    expect(failing(input({ state: seen, hubs: [signingNew] }))).toEqual([
      'old-tokens-expired: 205 s left: tokens signed with k1 (until 2026-12-04T11:58:20.000Z) may be valid until 2026-12-04T12:03:25.000Z',
    ]);
    expect(failing(input({ state: seen, hubs: [signingNew], now: new Date(at.getTime() + 205_000) }))).toEqual([]);
  });

  it('leave contract only when every hub publishes the new key alone, and never leave complete', () => {
    expect(failing(input({ state: state({ phase: 'contract' }), hubs: [hub('hub-1', { published: ['k1', 'k2'] })] }))).toHaveLength(1);
    expect(failing(input({ state: state({ phase: 'contract' }), hubs: [hub('hub-1', { published: ['k2'] })] }))).toEqual([]);
    expect(failing(input({ state: state({ phase: 'complete' }) }))).toEqual(['not-terminal: complete is final; start a new rotation']);
  });
});

/** The rotation record in memory, with the same compare-and-set as the MongoDB store. */
function memoryRotationStore(): KeyRotationStore {
  let stored: KeyRotationState | null = null;
  return {
    load: async () => (stored ? { ...stored } : null),
    save: async (state, expectedRevision) => {
      if ((stored?.revision ?? 0) !== expectedRevision) return false;
      stored = { ...state, revision: expectedRevision + 1 };
      return true;
    },
  };
}

describe('a rotation driven by the operator', () => {
  const who = { actor: 'ops', reason: 'test' };
  let now = at.getTime();
  const control = createInMemoryControlStore({ clock: { now: () => now } as never });
  const beat = (id: string, facts: Partial<Record<keyof typeof HUB_FACTS, string[]>>) => control.heartbeats.beat({ ...hub(id, facts), at: new Date(now) }, 60_000);
  const verifierReport = { service: 'orders', instances: [{ instanceId: 'o-1', build: 'v2', documents: {}, facts: { 'auth.jwks-kids': ['k1', 'k2'] } }] } as unknown as ServiceSchemaReport;
  const rotation = new KeyRotation({
    store: memoryRotationStore(),
    heartbeats: control.heartbeats,
    audit: control.audit,
    schemas: { schemaOf: async () => verifierReport },
    verifiers: ['orders'],
    tokenTtlSeconds: 30,
    now: () => now,
  });

  it('starts only when every hub holds the new key, walks each phase as its gates hold, and restarts the clock when a hub signs with the old key again', async () => {
    await beat('hub-1', { ring: ['k1'], published: ['k1'], signing: ['k1'], tokenTtl: ['30'] });
    await expect(rotation.start('k2', who)).rejects.toThrow(/hubs-hold-new-key: auth-hub: auth.signing-keys must include k2; not yet: hub-1/);
    await beat('hub-1', { ring: ['k1', 'k2'], published: ['k1'], signing: ['k1'], tokenTtl: ['30'] });
    expect((await rotation.start('k2', who)).phase).toBe('expand');
    await expect(rotation.advance(who)).rejects.toThrow(/hubs-publish-new-key/);
    await beat('hub-1', { ring: ['k1', 'k2'], published: ['k1', 'k2'], signing: ['k1'], tokenTtl: ['30'] });
    expect((await rotation.advance(who)).phase).toBe('switch');

    await beat('hub-1', { ring: ['k1', 'k2'], published: ['k1', 'k2'], signing: ['k2'], tokenTtl: ['30'] });
    await expect(rotation.advance(who)).rejects.toThrow('old-tokens-expired: 35 s left');
    now += 20_000;
    await beat('hub-1', { ring: ['k1', 'k2'], published: ['k1', 'k2'], signing: ['k2'], tokenTtl: ['30'] });
    await beat('hub-late', { ring: ['k1', 'k2'], published: ['k1', 'k2'], signing: ['k1'], tokenTtl: ['30'] }); // joined signing the old key
    const err = await rotation.advance(who).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyRotationRefusedError);
    expect((err as Error).message).toMatch(/hub-late \(auth-hub-v2\) reports auth.signing-kid \[k1\][\s\S]*old-tokens-expired: the clock starts once every hub signs with k2/);
    await control.heartbeats.remove('hub-late');
    now += 20_000; // 40 s after the first switch, but only now does every hub sign with k2 again
    await expect(rotation.advance(who)).rejects.toThrow('old-tokens-expired: 35 s left');
    now += 35_000;
    await beat('hub-1', { ring: ['k1', 'k2'], published: ['k1', 'k2'], signing: ['k2'], tokenTtl: ['30'] });
    expect((await rotation.advance(who)).phase).toBe('contract');
    await expect(rotation.advance(who)).rejects.toThrow(/hubs-publish-only-new-key/);
    await beat('hub-1', { ring: ['k1', 'k2'], published: ['k2'], signing: ['k2'], tokenTtl: ['30'] });
    expect((await rotation.advance(who)).phase).toBe('complete');
    expect((await control.audit.list('auth.signing-key')).map((e) => e.action)).toEqual(['rotation-start', 'phase', 'switch-seen', 'switch-lost', 'switch-seen', 'phase', 'phase']);
  });
});
