import { containerStrategy, envUrlStrategy, localServerStrategy } from './common-strategies';
import { findExecutable } from './local-process';
import { resolveService } from './resolve';
import type { RedisService, StartOptions } from './types';

export const REDIS_HINTS = [
  'run `bash tools/setup.sh`, or `sudo apt-get install redis-server` (Debian/Ubuntu package redis-server)',
  'or put redis-server on PATH or in REDIS_SERVER_BIN',
  'or start a Docker engine (testcontainers then runs redis:7-alpine)',
  'or point REDIS_URL at a running Redis',
];

/**
 * A Redis server: REDIS_URL, else a redis container (Docker), else a local redis-server
 * without persistence on its own port. Throws ServiceUnavailableError with install
 * instructions when none works.
 */
export function startRedis(opts: StartOptions = {}): Promise<RedisService> {
  return resolveService(
    'redis',
    [
      envUrlStrategy<RedisService>('redis', 'REDIS_URL', 6379),
      containerStrategy<RedisService>(process.env.ZDM_REDIS_IMAGE ?? 'redis:7-alpine', async (image) => {
        const { RedisContainer } = await import('@testcontainers/redis');
        const container = await new RedisContainer(image).start();
        return { container, url: container.getConnectionUrl() };
      }),
      localServerStrategy<RedisService>(
        {
          name: 'redis-server',
          locate: () => ({ bin: findExecutable('redis-server', 'REDIS_SERVER_BIN'), searched: 'REDIS_SERVER_BIN, PATH, /usr/sbin' }),
          args: (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
          describe: (version, pid) => `redis-server ${/v=(\S+)/.exec(version)?.[1] ?? version} pid ${pid}`,
          url: (port) => `redis://127.0.0.1:${port}`,
        },
        opts,
      ),
    ],
    REDIS_HINTS,
    opts,
  );
}
