export * from './lib/customers.repository';
export * from './lib/customer.model';
