/** @zdm/auth-guard/testing: a stand-in token issuer for the suites of services that guard their writes. */
export * from './lib/test-token-issuer';
export * from './lib/auth-hub.process';
