import { Global, Module } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import { authHubConfig } from '../app/auth-hub.config';
import { JwksController } from './jwks.controller';
import { loadSigningKey, SigningKey } from './signing-key';

/** The signing key (from SIGNING_KEY or SIGNING_KEY_FILE) and the JWKS endpoint publishing its public half. */
@Global()
@Module({
  controllers: [JwksController],
  providers: [{ provide: SigningKey, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig<typeof authHubConfig>) => loadSigningKey(config) }],
  exports: [SigningKey],
})
export class KeysModule {}
