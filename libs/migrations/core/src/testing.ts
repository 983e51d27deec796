/**
 * `@zdm/migrations-core/testing`: what the specs of every migrations project share. The control
 * store conformance suite, the reference migrations and documents, an in-memory collection and
 * backend, and a manual clock. Test code only: nothing in a library's own entry imports it.
 */
export * from './lib/testing/control-store.conformance';
export * from './lib/testing/manual-clock';
export * from './lib/testing/migration.fixtures';
export * from './lib/testing/in-memory-target';
export { waitFor } from '@zdm/dev-services';
