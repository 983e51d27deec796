import { factGate, includes, isOnly } from './instance-facts';

const instance = (instanceId: string, kids?: string[]) => ({ instanceId, build: 'b1', facts: kids ? { 'auth.jwks-kids': kids } : undefined });
const gate = (instances: ReturnType<typeof instance>[], minInstances?: number) =>
  factGate({ gate: 'verifiers-fetched-new-key', of: 'orders', instances, fact: 'auth.jwks-kids', holds: includes('k2'), expect: 'include k2', minInstances });

describe('a fact gate', () => {
  it('holds when every live instance reports the fact with the value', () => {
    expect(gate([instance('o1', ['k1', 'k2']), instance('o2', ['k2'])])).toEqual({
      gate: 'verifiers-fetched-new-key',
      ok: true,
      detail: 'all 2 live instance(s) of orders: auth.jwks-kids include k2',
    });
  });

  it('holds back while one instance lacks the value, naming it and what it reports', () => {
    const result = gate([instance('o1', ['k1', 'k2']), instance('o2', ['k1'])]);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe('orders: auth.jwks-kids must include k2; not yet: o2 (b1) reports auth.jwks-kids [k1]');
  });

  it('holds back for an instance that does not report the fact at all (an older build)', () => {
    expect(gate([instance('o1')]).detail).toBe('orders: auth.jwks-kids must include k2; not yet: o1 (b1) reports no auth.jwks-kids');
  });

  it('holds with no live instance unless a minimum is asked for', () => {
    expect(gate([]).ok).toBe(true);
    expect(gate([], 1)).toMatchObject({ ok: false, detail: '0 live instance(s) of orders, need at least 1 reporting auth.jwks-kids that include k2' });
  });

  it('can ask for exactly one value', () => {
    expect(isOnly('k2')(['k2'])).toBe(true);
    expect(isOnly('k2')(['k1', 'k2'])).toBe(false);
    expect(isOnly('k2')([])).toBe(false);
  });
});
