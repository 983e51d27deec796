export * from './lib/customers.client';
