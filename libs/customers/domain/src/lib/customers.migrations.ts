import { Doc, MigrationDefinition, MigrationRegistry, defineMigration } from '@zdm/migrations-core';
import { fromStoredFullName, joinFullName, storedFullNameProblem, toStoredFullName } from './customer-name';
import { DEFAULT_CUSTOMER_STATUS, marketingPreferencesProblem, statusProblem } from './customer-status';

/** The MongoDB collection holding customers; migrations of customers target it. */
export const CUSTOMERS_COLLECTION = 'customers';

/** The service name migrations, heartbeats and gates use. */
export const CUSTOMERS_SERVICE = 'customers';

const target = { kind: 'mongo', collection: CUSTOMERS_COLLECTION } as const;

/** The name parts of a v1 document; throws (so the runner quarantines it) when they are not strings. */
function namePartsOf(doc: Doc): { firstName: string; lastName: string } {
  const { firstName, lastName } = doc;
  if (typeof firstName !== 'string' || typeof lastName !== 'string') {
    throw new Error(`firstName and lastName must be strings, got ${typeof firstName} and ${typeof lastName}`);
  }
  return { firstName, lastName };
}

/**
 * v1 -> v2, expand/contract: `fullName` joins `firstName` and `lastName`. The old fields stay
 * until contract. `firstNameLength` is kept beside `fullName` so the split is exact: old clients
 * keep reading exactly the parts they wrote, and `down(up(doc))` equals `doc` even for
 * "Mary Ann" + "Evans" or "Ludwig" + "van Beethoven".
 */
export const fullNameMigration = defineMigration<Doc, Doc>({
  id: 'customers.full-name',
  description: 'join firstName and lastName into fullName (with firstNameLength, so the split stays exact)',
  service: CUSTOMERS_SERVICE,
  target,
  from: 1,
  to: 2,
  strategy: { kind: 'expand-contract' },
  up: (doc) => ({ ...doc, ...toStoredFullName(namePartsOf(doc)) }),
  down: (doc) => {
    const { fullName, firstNameLength, ...rest } = doc;
    return { ...rest, ...fromStoredFullName({ fullName: fullName as string, firstNameLength: firstNameLength as number }) };
  },
  verify: (doc) => {
    const problem = storedFullNameProblem(doc);
    if (problem) return problem;
    // While the old fields are still there, the new ones must say exactly the same.
    if (doc['firstName'] === undefined && doc['lastName'] === undefined) return true;
    const old = namePartsOf(doc);
    if (doc['fullName'] !== joinFullName(old)) return `fullName ${JSON.stringify(doc['fullName'])} is not firstName and lastName joined (${JSON.stringify(joinFullName(old))})`;
    return doc['firstNameLength'] === old.firstName.length ? true : `firstNameLength ${String(doc['firstNameLength'])} is not the length of firstName (${old.firstName.length})`;
  },
  removedFields: ['firstName', 'lastName'],
  addedFields: ['fullName', 'firstNameLength'],
});

/**
 * v2 -> v3, additive: `status` (default "Active") and a nullable `marketingPreferences`. Nothing is
 * removed, so no dual-write: every build that reads v3 also reads v2, and a v2 reader never meets
 * a shape it lacks. Backfill is eager: the runner stamps every stored document, so the data ends
 * at v3 (a query on `status` can then use the stored field) instead of relying on a read-time
 * default forever. Until the backfill reaches a document, readers apply the same default in memory.
 */
export const statusMigration = defineMigration<Doc, Doc>({
  id: 'customers.status',
  description: 'add status (default "Active") and nullable marketingPreferences',
  service: CUSTOMERS_SERVICE,
  target,
  from: 2,
  to: 3,
  strategy: { kind: 'additive', backfill: 'eager' },
  up: (doc) => ({ ...doc, status: DEFAULT_CUSTOMER_STATUS, marketingPreferences: null }),
  down: (doc) => {
    const { status: _status, marketingPreferences: _preferences, ...rest } = doc;
    return rest;
  },
  verify: (doc) => statusProblem(doc['status']) ?? marketingPreferencesProblem(doc['marketingPreferences']) ?? true,
  addedFields: ['status', 'marketingPreferences'],
});

/** Every migration this build of the customers service knows, registered explicitly, in order. */
export const customersMigrations: readonly MigrationDefinition[] = [fullNameMigration, statusMigration];

/** The validated registry of {@link customersMigrations}; throws at startup if the chain is broken. */
export function customersRegistry(): MigrationRegistry {
  return MigrationRegistry.create(customersMigrations);
}

/** The customer document versions this build reads: from v1 up to the last registered step. */
export function customersReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(CUSTOMERS_COLLECTION) };
}
