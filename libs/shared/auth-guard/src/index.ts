export * from './lib/access-token';
export * from './lib/access-token.verifier';
export * from './lib/access-token.guard';
export * from './lib/auth-guard.module';
export * from './lib/openapi';
