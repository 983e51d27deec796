export * from './lib/customer-name';
