import { customersMigrations } from '@zdm/customers-domain';
import type { UnleashService } from '@zdm/dev-services';
import { operatorFor as mongoOperatorFor, pendingFlags, type Operator } from '@zdm/migrations-nest/testing';
import type { mongo } from 'mongoose';

export { followingUnleash, type Operator } from '@zdm/migrations-nest/testing';

/** Every migration flag of this build at its oldest, safest value (the `pending` phase). */
export const PENDING_FLAGS: Record<string, boolean> = pendingFlags(customersMigrations);

/** Every customers flag back to pending, and the operator's tools over the suite's database. */
export function operatorFor(db: mongo.Db, unleash: UnleashService): Promise<Operator> {
  return mongoOperatorFor(db, unleash, customersMigrations);
}
