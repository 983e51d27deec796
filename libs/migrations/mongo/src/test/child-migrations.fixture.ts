import { fullNameMigration } from '@zdm/migrations-core/testing';
import { MigrationDefinition } from '@zdm/migrations-core';

const collection = process.env['ZDM_TEST_COLLECTION'] ?? 'customers';

/** The id of the test migration over `collection` (one per collection, so leases are not shared). */
export const childMigrationId = (name: string): string => `customers.full-name.${name.replace(/_/g, '-')}`;

/** What `bin/mongo-job.main.ts` loads in tests: customers.full-name on the collection in ZDM_TEST_COLLECTION. */
export const migrations: MigrationDefinition[] = [fullNameMigration({ collection, id: childMigrationId(collection) })];
