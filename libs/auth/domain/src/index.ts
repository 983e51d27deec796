export * from './lib/email';
export * from './lib/password-policy';
export * from './lib/password-hash';
export * from './lib/tokens';
export * from './lib/refresh-family';
export * from './lib/session-keyspace';
export * from './lib/auth.migrations';
