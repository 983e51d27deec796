export * from './lib/access-token';
export * from './lib/access-token.verifier';
export * from './lib/access-token.guard';
export * from './lib/auth-guard.module';
export { JWKS_KIDS_FACT } from './lib/key-set.facts';
export * from './lib/openapi';
export * from './lib/verifier.config';
