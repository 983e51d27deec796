import { allowedSources, handle, resolveService, ServiceUnavailableError, type Strategy } from './resolve';
import type { MongoService } from './types';

const fake = (source: Strategy<MongoService>['source'], outcome: 'ok' | 'skip' | 'throw'): Strategy<MongoService> => ({
  source,
  label: `fake ${source}`,
  start: async () => {
    if (outcome === 'skip') return { skip: 'not here' };
    if (outcome === 'throw') throw new Error('boom');
    return { url: `mongodb://${source}`, ...handle(source, source, Date.now(), async () => undefined) };
  },
});

describe('resolveService', () => {
  afterEach(() => {
    delete process.env.ZDM_SERVICE_SOURCES;
  });

  it('returns the first strategy that starts, after skips and failures', async () => {
    const got = await resolveService('mongo', [fake('env', 'skip'), fake('testcontainers', 'throw'), fake('local', 'ok'), fake('memory-server', 'ok')], []);
    expect(got.source).toBe('local');
  });

  it('treats a failing env strategy as fatal (an explicit address is never replaced)', async () => {
    await expect(resolveService('mongo', [fake('env', 'throw'), fake('local', 'ok')], [])).rejects.toThrow('mongo: boom');
  });

  it('throws ServiceUnavailableError listing every attempt and the hints', async () => {
    const err = await resolveService('mongo', [fake('env', 'skip'), fake('local', 'throw')], ['run `bash tools/setup.sh`']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toContain('fake env: not here');
    expect((err as Error).message).toContain('fake local: failed: boom');
    expect((err as Error).message).toContain('run `bash tools/setup.sh`');
  });

  it('honours the allowed sources (option, then ZDM_SERVICE_SOURCES)', async () => {
    const strategies = [fake('testcontainers', 'ok'), fake('local', 'ok')];
    expect((await resolveService('mongo', strategies, [], { sources: ['local'] })).source).toBe('local');
    process.env.ZDM_SERVICE_SOURCES = 'env, local';
    expect(allowedSources()).toEqual(['env', 'local']);
    expect((await resolveService('mongo', strategies, [])).source).toBe('local');
    process.env.ZDM_SERVICE_SOURCES = 'docker';
    expect(() => allowedSources()).toThrow(/unknown source/);
  });

  it('makes stop idempotent', async () => {
    const stop = jest.fn(async () => undefined);
    const h = handle('local', 'x', Date.now(), stop);
    await Promise.all([h.stop(), h.stop()]);
    expect(stop).toHaveBeenCalledTimes(1);
  });
});
