import { Doc, MigrationRegistry, defineMigration } from '@zdm/migrations-core';

/** customers v1 -> v2: firstName + lastName -> fullName (old fields kept until contract). */
export const fullNameMigration = defineMigration<Doc, Doc>({
  id: 'customers.full-name',
  description: 'join firstName and lastName into fullName',
  service: 'customers',
  target: { kind: 'mongo', collection: 'customers' },
  from: 1,
  to: 2,
  up: (doc) => {
    if (typeof doc['firstName'] !== 'string' || typeof doc['lastName'] !== 'string') throw new Error('firstName and lastName must be strings');
    return { ...doc, fullName: `${doc['firstName']} ${doc['lastName']}` };
  },
  down: ({ fullName, ...rest }) => {
    const [firstName, ...last] = String(fullName).split(' ');
    return { ...rest, firstName, lastName: last.join(' ') };
  },
  verify: (doc) => (typeof doc['fullName'] === 'string' && doc['fullName'].includes(' ') ? true : 'fullName must be "<first> <last>"'),
  removedFields: ['firstName', 'lastName'],
  addedFields: ['fullName'],
});

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
