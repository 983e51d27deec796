export * from './lib/customers.repository';
export * from './lib/customer.model';
export { isUnreadableVersion, UnreadableVersionError } from '@zdm/migrations-mongo';
