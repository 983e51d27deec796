import { Global, Module } from '@nestjs/common';
import { MONGO_CONNECTION } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { authHubConfig } from '../app/auth-hub.config';
import { JwksController } from './jwks.controller';
import { createMongoKeyRotationStore } from './key-rotation.store';
import { KEY_ROTATION_STORE, KeyRotationFollower } from './key-rotation.follower';
import { loadKeyRing, SigningKey } from './signing-key';

/**
 * The key ring (SIGNING_KEY, SIGNING_KEY_FILE or SIGNING_KEYS_DIR), the key signing access tokens
 * now and the JWKS endpoint publishing the public halves, both following the signing-key rotation
 * recorded in the service's database.
 */
@Global()
@Module({
  controllers: [JwksController],
  providers: [
    { provide: SigningKey, inject: [SERVICE_CONFIG], useFactory: async (config: ServiceConfig<typeof authHubConfig>) => new SigningKey(await loadKeyRing(config)) },
    {
      provide: KEY_ROTATION_STORE,
      inject: [MONGO_CONNECTION],
      useFactory: (connection: Connection) => {
        if (!connection.db) throw new Error('the MongoDB connection is not open');
        return createMongoKeyRotationStore(connection.db);
      },
    },
    KeyRotationFollower,
  ],
  exports: [SigningKey],
})
export class KeysModule {}
