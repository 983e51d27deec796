import { MatchersV3, PactV4 } from '@pact-foundation/pact';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CustomersClient } from './customers.client';

const { fromProviderState, like } = MatchersV3;

/**
 * What orders expects of the customers API, stated through the client itself: only the fields
 * orders reads, so both API 1.0 (blue) and 1.1 (green) satisfy it. The pact is written to a temp
 * dir and compared with the committed one (UPDATE_PACTS=1 rewrites it), so the committed file is
 * always what these tests state.
 */
const pactDir = mkdtempSync(path.join(tmpdir(), 'orders-pact-'));
const pact = new PactV4({ consumer: 'orders', provider: 'customers', dir: pactDir, logLevel: 'warn' });

/** The committed pact, which customers verifies its releases against. */
const COMMITTED = path.join(__dirname, '..', '..', 'pacts', 'orders-customers.json');
/** Provider states: customers' verification seeds each through its own API. */
const STATES = { exists: 'a customer exists', absent: 'no customer has the id' };
const EXAMPLE_ID = '665f1c2ab4d9e0a1b2c3d4e5';

/** The interactions, without the run-specific metadata (pact library versions). */
const interactionsOf = (file: string) => JSON.parse(readFileSync(file, 'utf8')).interactions as unknown[];

describe('orders -> customers contract (consumer side)', () => {
  afterAll(() => {
    const written = path.join(pactDir, path.basename(COMMITTED));
    try {
      if (process.env['UPDATE_PACTS'] === '1') writeFileSync(COMMITTED, readFileSync(written));
      expect(interactionsOf(COMMITTED)).toEqual(interactionsOf(written));
    } finally {
      rmSync(pactDir, { recursive: true, force: true });
    }
  });

  it('reads an existing customer: id, firstName and lastName are all orders needs', async () => {
    await pact
      .addInteraction()
      .given(STATES.exists, { firstName: 'Mary Ann', lastName: 'Evans' })
      .uponReceiving('a request for an existing customer')
      .withRequest('GET', fromProviderState('/customers/${id}', `/customers/${EXAMPLE_ID}`), (req) => req.headers({ accept: 'application/json' }))
      .willRespondWith(200, (res) =>
        res.jsonBody({
          id: fromProviderState('${id}', EXAMPLE_ID),
          firstName: like('Mary Ann'),
          lastName: like('Evans'),
        }),
      )
      .executeTest(async (server) => {
        const customer = await new CustomersClient({ baseUrl: server.url }).getCustomer(EXAMPLE_ID);
        expect(customer).toEqual({ id: EXAMPLE_ID, firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' });
      });
  });

  it('gets 404 for a customer id the API does not know, and reads it as no customer', async () => {
    const unknown = '0000000000000000000000aa';
    await pact
      .addInteraction()
      .given(STATES.absent, { id: unknown })
      .uponReceiving('a request for an unknown customer')
      .withRequest('GET', `/customers/${unknown}`, (req) => req.headers({ accept: 'application/json' }))
      .willRespondWith(404)
      .executeTest(async (server) => {
        await expect(new CustomersClient({ baseUrl: server.url }).getCustomer(unknown)).resolves.toBeUndefined();
      });
  });
});
