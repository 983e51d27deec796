export * from './lib/customers.repository';
export * from './lib/customer.model';
export * from './lib/write-claims';
export { isUnreadableVersion, UnreadableVersionError } from '@zdm/migrations-mongo';
