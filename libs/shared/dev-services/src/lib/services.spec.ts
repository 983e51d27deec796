import net from 'node:net';
import { freePort } from './net';
import { mongoServerName, startMongo } from './mongo';
import { startRedis } from './redis';
import { ServiceUnavailableError } from './resolve';
import { describeServices, selectedNames, serviceEnv, startServices } from './services';
import { startUnleash } from './unleash';

const saved = { ...process.env };
const servers: net.Server[] = [];

/** A TCP server that accepts and drops connections: "something answers" for the env checks. */
async function dummyServer(): Promise<number> {
  const port = await freePort();
  const server = net.createServer((s) => s.destroy()).listen(port, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return port;
}

beforeEach(() => {
  // Tests may run under `npm test`, which exports the real services' variables.
  for (const key of Object.keys(process.env)) {
    if (/^(MONGO_URL|REDIS_URL|UNLEASH_|ZDM_\w+_DESCRIPTION$|ZDM_SERVICE_SOURCES$|ZDM_MONGO_SERVER$)/.test(key)) delete process.env[key];
  }
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe('env sources', () => {
  it('uses MONGO_URL / REDIS_URL when something answers there', async () => {
    const port = await dummyServer();
    process.env.MONGO_URL = `mongodb://user:secret@127.0.0.1:${port}/`;
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    process.env.ZDM_MONGO_DESCRIPTION = 'FerretDB v1.24.2';
    const services = await startServices({ mongo: true, redis: true });
    expect(services.mongo).toMatchObject({ source: 'env', url: process.env.MONGO_URL });
    expect(services.mongo?.description).toBe(`FerretDB v1.24.2 via MONGO_URL=mongodb://***@127.0.0.1:${port}/`);
    expect(services.redis?.source).toBe('env');
    expect(serviceEnv(services)).toEqual({ MONGO_URL: process.env.MONGO_URL, REDIS_URL: process.env.REDIS_URL, ZDM_MONGO_DESCRIPTION: 'FerretDB v1.24.2' });
    expect(describeServices(services)).toMatch(/^mongo=.*\[env\], redis=.*\[env\]$/);
    await services.stop();
  });

  it('fails fast with a clear message when MONGO_URL does not answer', async () => {
    process.env.MONGO_URL = `mongodb://127.0.0.1:${await freePort()}`;
    await expect(startMongo()).rejects.toThrow(/MONGO_URL=.* is set but nothing answers/);
  });

  it('requires both Unleash tokens next to UNLEASH_URL', async () => {
    process.env.UNLEASH_URL = 'http://127.0.0.1:1/api/';
    process.env.UNLEASH_CLIENT_TOKEN = 'default:development.x';
    await expect(startUnleash()).rejects.toThrow(/UNLEASH_ADMIN_TOKEN and UNLEASH_CLIENT_TOKEN must be set/);
  });
});

describe('unavailable services', () => {
  it('names what to install', async () => {
    process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server';
    const err = await startRedis({ sources: ['env', 'local'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toContain('redis-server not found');
    expect((err as Error).message).toContain('apt-get install redis-server');
    expect((err as Error).message).toContain('bash tools/setup.sh');
  });

  it('stops the started services when another one fails (unless allowPartial)', async () => {
    process.env.REDIS_URL = `redis://127.0.0.1:${await dummyServer()}`;
    process.env.FERRETDB_BIN = '/nonexistent/ferretdb';
    await expect(startServices(['mongo', 'redis'], { sources: ['env', 'local'] })).rejects.toThrow(/ferretdb not found/);
    const partial = await startServices(['mongo', 'redis'], { sources: ['env', 'local'], allowPartial: true });
    expect(partial.redis?.source).toBe('env');
    expect(partial.failures.mongo).toBeInstanceOf(ServiceUnavailableError);
  });

  it('names the atomic server and how to get it when ZDM_MONGO_SERVER=atomic finds no launcher', async () => {
    process.env.ZDM_MONGO_SERVER = 'atomic';
    process.env.MONGO_JAVA_SERVER_BIN = '/nonexistent/mongo-java-server';
    const err = await startMongo({ sources: ['env', 'local'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toContain('mongo-java-server not found');
    expect((err as Error).message).toMatch(/bash tools\/setup.sh.*mongo-java-server 1\.47\.0.*Java 17 and Maven/);
    expect((err as Error).message).not.toContain('ferretdb');
  });

  it('refuses an unknown ZDM_MONGO_SERVER, naming the valid ones', async () => {
    process.env.ZDM_MONGO_SERVER = 'mongod';
    await expect(startMongo({ sources: ['local'] })).rejects.toThrow('ZDM_MONGO_SERVER=mongod: use one of ferretdb, atomic');
  });

  it('selects all services by default', () => {
    expect(selectedNames()).toEqual(['mongo', 'redis', 'unleash']);
    expect(selectedNames({ redis: true })).toEqual(['redis']);
    expect(selectedNames(['unleash'])).toEqual(['unleash']);
  });
});

describe('mongoServerName', () => {
  it('names FerretDB, mongo-java-server and MongoDB from their buildInfo answers', () => {
    expect(mongoServerName({ version: '7.0.77', ferretdbVersion: 'v1.24.2' })).toBe('FerretDB 1.24.2');
    expect(mongoServerName({ version: '5.0.0', mongoJavaServerVersion: '1.47.0' })).toBe('mongo-java-server 1.47.0');
    expect(mongoServerName({ version: '8.0.4' })).toBe('MongoDB 8.0.4');
  });
});
