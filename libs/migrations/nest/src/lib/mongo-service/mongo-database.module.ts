import { Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { mongooseDeadlinePlugin, ReadinessRegistry, SERVICE_CONFIG, trackMongoCommands } from '@zdm/service-defaults';
import mongoose, { Connection } from 'mongoose';
import type { MongoServiceConfig } from './mongo-service.config';

/** Injection token of the service's mongoose connection. */
export const MONGO_CONNECTION = Symbol('zdm:MONGO_CONNECTION');

/** How long startup keeps trying to reach MongoDB before it fails naming the reason. */
const STARTUP_CONNECT_MS = 30_000;

/**
 * Opens the connection; startup fails with the reason when MongoDB cannot be reached within
 * {@link STARTUP_CONNECT_MS} (it keeps trying meanwhile: a slow store under load did not answer
 * one 2 s server selection, and the instance then failed to start). Requests give up on server
 * selection after 2 s (a 503 naming mongo); reads carry the time left as `maxTimeMS`, and a
 * request still waiting on any command at its deadline is answered 503 naming `mongo`.
 */
export async function openMongoConnection(config: Pick<MongoServiceConfig, 'MONGO_URL' | 'MONGO_DB'>): Promise<Connection> {
  const giveUpAt = Date.now() + STARTUP_CONNECT_MS;
  for (;;) {
    const connection = mongoose.createConnection(config.MONGO_URL, { dbName: config.MONGO_DB, serverSelectionTimeoutMS: 2_000, monitorCommands: true });
    connection.plugin(mongooseDeadlinePlugin, { dependency: 'mongo' });
    trackMongoCommands(connection.getClient(), 'mongo');
    try {
      return await connection.asPromise();
    } catch (error) {
      await connection.close().catch(() => undefined);
      if (Date.now() >= giveUpAt || (error as Error).name !== 'MongooseServerSelectionError') throw error;
    }
  }
}

/** Registers the `mongo` readiness check, and closes the connection last (after heartbeats are removed). */
@Injectable()
export class MongoDatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(MONGO_CONNECTION) private readonly connection: Connection,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit() {
    this.readiness.register('mongo', () => this.connection.db?.admin().ping().then(() => undefined), { timeoutMs: 1_000 });
  }

  async onApplicationShutdown() {
    await this.connection.close();
  }
}

/**
 * The service's one MongoDB connection (`MONGO_URL`, `MONGO_DB` of {@link mongoServiceConfig}):
 * its documents and their migration control records share the database.
 */
@Global()
@Module({
  providers: [{ provide: MONGO_CONNECTION, inject: [SERVICE_CONFIG], useFactory: openMongoConnection }, MongoDatabaseLifecycle],
  exports: [MONGO_CONNECTION],
})
export class MongoDatabaseModule {}
