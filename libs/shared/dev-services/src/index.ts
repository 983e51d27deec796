/**
 * @zdm/dev-services: starts or finds the backing services (MongoDB, Redis, Unleash) for
 * development and tests, and returns URLs, tokens and a stop function.
 *
 * Per service, in order: (1) the environment (MONGO_URL, REDIS_URL, UNLEASH_URL +
 * UNLEASH_ADMIN_TOKEN + UNLEASH_CLIENT_TOKEN); (2) testcontainers when a Docker engine
 * answers (MongoDB, Redis); (3) a local process: FerretDB (SQLite) or, with
 * ZDM_MONGO_SERVER=atomic, mongo-java-server; redis-server; unleash-server on its own PostgreSQL; (4) MongoDB only: mongodb-memory-server. Else a
 * ServiceUnavailableError says what to install. ZDM_SERVICE_SOURCES=local,... narrows
 * the order. Local processes run under a supervisor that removes them and their temp dir
 * when this process ends, however it ends.
 *
 *   const services = await startServices({ mongo: true, unleash: true });
 *   ...; await services.stop();
 *
 * In specs: describeIntegration('orders', ['mongo'], (services) => { ... }).
 * CLI: `npm run services -- up [--mongo --redis --unleash] [--json]`.
 */
export type {
  MongoService,
  RedisService,
  ServiceHandle,
  ServiceMap,
  ServiceName,
  ServiceSource,
  StartOptions,
  UnleashService,
} from './lib/types';
export { ServiceUnavailableError } from './lib/resolve';
export { freePort, probeDocker, type DockerProbe } from './lib/net';
export {
  startMongo,
  localMongoServer,
  mongoServerName,
  FERRETDB_VERSION,
  MONGO_JAVA_SERVER_VERSION,
  LOCAL_MONGO_SERVERS,
  type LocalMongoServer,
} from './lib/mongo';
export { startRedis } from './lib/redis';
export { startUnleash } from './lib/unleash';
export {
  describeServices,
  serviceEnv,
  startServices,
  SERVICE_NAMES,
  type ServiceSelection,
  type Services,
  type StartServicesOptions,
} from './lib/services';
export {
  describeIntegration,
  integrationServices,
  shouldSkipIntegration,
  uniqueMongoDbName,
  uniqueRedisPrefix,
  uniqueSuiteId,
  type IntegrationOptions,
  type IntegrationServices,
} from './lib/integration';
export { indexFerretDbIds, keepFerretDbIdsIndexed, idIndexName, type IdIndexPass } from './lib/ferretdb-id-index';
export { TcpProxy } from './lib/tcp-proxy';
export { seededRandom } from './lib/seeded-random';
export { waitFor } from './lib/wait-for';
export { startServiceProcess, stopServiceProcess, type ServiceProcess, type ServiceProcessSpec } from './lib/service-process';
export { HOSTILE_KEYS, randomJson, type RandomJsonOptions } from './lib/random-json';
export { startServiceApp, type InstanceEnv } from './lib/service-app';
export { materializeRelease, startRelease, stopRelease, type MaterializedRelease, type ReleaseProcess } from './lib/releases';
