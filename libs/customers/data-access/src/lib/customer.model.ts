import { CUSTOMERS_COLLECTION } from '@zdm/customers-domain';
import { versionedModel, type ModelVersionOptions } from '@zdm/migrations-mongo';
import { Schema, type Connection } from 'mongoose';
import { CustomersRepository } from './customers.repository';

/** Options of {@link createCustomersRepository}: what this build reads and writes of customer documents. */
export type CustomersModelOptions = ModelVersionOptions;

/** The fields customer documents of this build's versions have (v1 names, v2 full name, v3 status). */
const CUSTOMER_FIELDS = {
  firstName: String,
  lastName: String,
  fullName: String,
  firstNameLength: Number,
  status: String,
  marketingPreferences: { type: Schema.Types.Mixed },
};

/**
 * The customers model on `connection` with the versioned plugin (stamps `_v`, bumps `_rev`,
 * refuses versions this build does not know), and a repository reading through the same rules.
 * Fields outside the schema are refused (`strict: 'throw'`) rather than silently dropped.
 */
export function createCustomersRepository(connection: Connection, options: CustomersModelOptions): CustomersRepository {
  const model = versionedModel(connection, { ...options, collection: CUSTOMERS_COLLECTION, modelName: 'Customer', fields: CUSTOMER_FIELDS });
  return new CustomersRepository({ ...model, entity: 'customer' });
}
