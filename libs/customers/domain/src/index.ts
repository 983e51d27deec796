export * from './lib/customer-name';
export * from './lib/customers.migrations';
