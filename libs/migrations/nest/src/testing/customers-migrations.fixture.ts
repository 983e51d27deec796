import { Doc, MigrationRegistry, defineMigration } from '@zdm/migrations-core';
import { fullNameMigration as sharedFullNameMigration } from '@zdm/migrations-core/testing';

/** customers v1 -> v2: firstName + lastName -> fullName, the shared reference migration. */
export const fullNameMigration = sharedFullNameMigration();

/** customers v2 -> v3: email -> emails[]. */
export const emailsMigration = defineMigration<Doc, Doc>({
  id: 'customers.emails',
  description: 'turn email into a list of emails',
  service: 'customers',
  target: { kind: 'mongo', collection: 'customers' },
  from: 2,
  to: 3,
  up: (doc) => ({ ...doc, emails: [doc['email']] }),
  removedFields: ['email'],
  addedFields: ['emails'],
});

/** sessions v1 -> v2 (redis, additive): adds a device field. */
export const sessionDeviceMigration = defineMigration<Doc, Doc>({
  id: 'sessions.device',
  description: 'add device to sessions',
  service: 'customers',
  target: { kind: 'redis', keyPattern: 'session:*', versioning: 'value' },
  from: 1,
  to: 2,
  strategy: { kind: 'additive', backfill: 'lazy' },
  up: (doc) => ({ ...doc, device: 'unknown' }),
});

/** orders v1 -> v2: another service's migration, which customers' instances must ignore. */
export const ordersMigration = defineMigration<Doc, Doc>({
  id: 'orders.total-cents',
  description: 'store totals in cents',
  service: 'orders',
  target: { kind: 'mongo', collection: 'orders' },
  from: 1,
  to: 2,
  up: (doc) => ({ ...doc, totalCents: Math.round(Number(doc['total']) * 100) }),
  removedFields: ['total'],
});

export const customersRegistry = () => MigrationRegistry.create([fullNameMigration, sessionDeviceMigration]);
export const fullRegistry = () => MigrationRegistry.create([fullNameMigration, emailsMigration, sessionDeviceMigration, ordersMigration]);
