import { CUSTOMERS_SERVICE, customersMigrations } from '@zdm/customers-domain';
import { seedDocuments } from '../seed';
import { CUSTOMERS_MIX, CustomerName, checkCustomer, nameFor } from './customers.traffic';
import { jwksUrlBehind, type DemoService } from './demo.service';

/** The customers service in the demo: firstName/lastName at v1, walked to fullName (v2) and status (v3). */
export const customersService: DemoService = {
  name: CUSTOMERS_SERVICE,
  collection: 'customers',
  migrations: customersMigrations.filter((d) => d.service === CUSTOMERS_SERVICE),
  async seed(db, count) {
    const seeds = await seedDocuments({
      db,
      collection: 'customers',
      count,
      // Names from the load's own generator, numbered apart from the load's (which counts from 0).
      make: (i) => {
        const name = nameFor(1_000_000 + i, ((i * 7919) % 1000) / 1000);
        return { doc: { ...name }, value: { ...name } };
      },
    });
    return { service: CUSTOMERS_SERVICE, seeds };
  },
  mix: CUSTOMERS_MIX,
  check: (expected: CustomerName, body) => checkCustomer(expected, body),
  inconsistency: 'customer(s) have a fullName that is not their names joined',
  env: ({ lbUrl }) => ({ AUTH_JWKS_URL: jwksUrlBehind(lbUrl) }),
};
