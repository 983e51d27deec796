import { type DynamicModule, type FactoryProvider, Module } from '@nestjs/common';
import { AccessTokenGuard, ACCESS_TOKEN_VERIFIER } from './access-token.guard';
import { AccessTokenVerifier, type AccessTokenVerifierOptions } from './access-token.verifier';
import { KeySetFacts } from './key-set.facts';

/** Options of {@link AuthGuardModule.forRootAsync}. */
export interface AuthGuardModuleAsyncOptions {
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => AccessTokenVerifierOptions | Promise<AccessTokenVerifierOptions>;
}

/**
 * Provides the {@link AccessTokenVerifier} (and the {@link AccessTokenGuard} that uses it) to the
 * whole app; put `@UseGuards(AccessTokenGuard)` on the routes that need a token. A remote key set
 * is fetched at startup and kept fresh in the background, and the key ids held are reported in the
 * service's heartbeat (the `auth.jwks-kids` fact) when the app has ServiceDefaultsModule.
 */
@Module({})
export class AuthGuardModule {
  static forRootAsync(options: AuthGuardModuleAsyncOptions): DynamicModule {
    return {
      module: AuthGuardModule,
      global: true,
      providers: [
        {
          provide: ACCESS_TOKEN_VERIFIER,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => new AccessTokenVerifier(await options.useFactory(...args)),
        },
        AccessTokenGuard,
        KeySetFacts,
      ],
      exports: [ACCESS_TOKEN_VERIFIER, AccessTokenGuard],
    };
  }
}
