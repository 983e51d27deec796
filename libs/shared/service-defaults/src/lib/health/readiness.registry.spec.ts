import { HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessRegistry } from './readiness.registry';

async function probe(registry: ReadinessRegistry) {
  const results = await Promise.all(registry.indicators().map((indicator) => indicator()));
  return Object.assign({}, ...results);
}

describe('ReadinessRegistry', () => {
  let registry: ReadinessRegistry;
  beforeEach(() => {
    registry = new ReadinessRegistry(new HealthIndicatorService());
  });

  it('reports a check up when it resolves, with the details it returns', async () => {
    registry.register('mongo', async () => ({ pingMs: 3 }));
    registry.register('redis', () => undefined);
    expect(await probe(registry)).toEqual({ mongo: { status: 'up', pingMs: 3 }, redis: { status: 'up' } });
  });

  it('reports a check down when it throws, rejects or returns false', async () => {
    registry.register('throws', () => {
      throw new Error('connection refused');
    });
    registry.register('rejects', () => Promise.reject(new Error('auth failed')));
    registry.register('false', () => false);
    expect(await probe(registry)).toEqual({
      throws: { status: 'down', message: 'connection refused' },
      rejects: { status: 'down', message: 'auth failed' },
      false: { status: 'down', message: 'check returned false' },
    });
  });

  it('reports a check down when it does not settle within its timeout', async () => {
    registry.register('hangs', () => new Promise(() => undefined), { timeoutMs: 20 });
    expect(await probe(registry)).toEqual({ hangs: { status: 'down', message: 'timed out after 20 ms' } });
  });

  it('refuses a second check under the same name and forgets a check once unregistered', () => {
    const unregister = registry.register('mongo', () => true);
    expect(() => registry.register('mongo', () => true)).toThrow(/already registered/);
    unregister();
    expect(registry.names()).toEqual([]);
    registry.register('mongo', () => true);
    expect(registry.names()).toEqual(['mongo']);
  });
});
