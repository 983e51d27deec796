import { joinFullName } from '@zdm/customers-domain';
import { ReadProblem, ServiceTraffic, TrafficContext, TrafficMemory } from './traffic';

/** A customer's name as the v1 API reads and writes it. */
export interface CustomerName {
  firstName: string;
  lastName: string;
}

/** The customers requests of the load: mostly reads by id, a few list pages, creates and updates. */
export const CUSTOMERS_MIX = { 'customers.read': 0.78, 'customers.list': 0.02, 'customers.create': 0.1, 'customers.update': 0.1 };

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Mary Ann', 'Donald', 'Frances', 'Ken', 'Radia', 'Tony', 'Margaret', 'Jean Luc', 'Leslie'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Evans', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Hoare', 'Hamilton', 'Lamport', ''];

/**
 * A name for write number `seq`, unique to it so that a stale read is noticed. Some first names hold
 * a space ("Mary Ann") and some last names are empty (people known by one name): the cases where
 * joining into `fullName` and splitting back could go wrong. A first name holds a space only when a
 * last name follows, so even a split at the last space gives the same two fields back.
 */
export function nameFor(seq: number, r: number): CustomerName {
  const first = FIRST_NAMES[Math.floor(r * FIRST_NAMES.length) % FIRST_NAMES.length];
  const last = LAST_NAMES[seq % LAST_NAMES.length];
  return last ? { firstName: first, lastName: `${last}${seq}` } : { firstName: `${first.replace(/ /g, '')}${seq}`, lastName: '' };
}

const nameOf = (body: Record<string, unknown> | null): CustomerName | undefined =>
  body && typeof body['firstName'] === 'string' && typeof body['lastName'] === 'string' ? { firstName: body['firstName'], lastName: body['lastName'] } : undefined;

/** Fields to PATCH: both, or only one where the result still splits back (see `nameFor`). */
function patchOf(name: CustomerName, r: number): Partial<CustomerName> {
  if (r < 0.25 && !name.firstName.includes(' ')) return { firstName: name.firstName };
  if (r < 0.5 && name.lastName) return { lastName: name.lastName };
  return name;
}

/**
 * What is wrong with a customer as the API returned it, given its last acknowledged name: other
 * names are a lost write; a `fullName` (API 1.1) that is not the names joined is inconsistent.
 */
export function checkCustomer(expected: CustomerName, body: Record<string, unknown>): ReadProblem | null {
  const got = nameOf(body);
  if (!got || got.firstName !== expected.firstName || got.lastName !== expected.lastName) return 'lost';
  const fullName = body['fullName'];
  return fullName === undefined || fullName === joinFullName(expected) ? null : 'inconsistent';
}

/** Customers traffic, starting from the seeded customers. */
export function customersTraffic(seeds: readonly [string, Record<string, unknown>][]): ServiceTraffic {
  const memory = new TrafficMemory<CustomerName>(seeds, checkCustomer);
  const writes = memory.writes;

  return {
    kinds: ['read', 'list', 'create', 'update'],
    async issue(requested, ctx: TrafficContext) {
      let kind = requested;
      const startedAt = ctx.now();
      let target = writes.pick(ctx.rand());
      if (!target) kind = 'create';
      // One write at a time per customer: an update picks one with none in flight (else it reads).
      for (let tries = 0; kind === 'update' && !writes.begin(target as string); tries++) {
        if (tries >= 8) kind = 'read';
        else target = writes.pick(ctx.rand());
      }
      switch (kind) {
        case 'read':
          return memory.read(ctx, kind, target as string, `/customers/${target}`, startedAt);
        case 'list': {
          const answer = await ctx.send('GET', `/customers?limit=20&after=${target}`);
          ctx.record(kind, startedAt, answer.status);
          return;
        }
        case 'create':
          return memory.create(ctx, kind, '/customers', nameFor(ctx.seq(), ctx.rand()), nameOf, startedAt);
        case 'update': {
          const body = patchOf(nameFor(ctx.seq(), ctx.rand()), ctx.rand());
          return memory.update(ctx, kind, target as string, { method: 'PATCH', path: `/customers/${target}`, body }, nameOf, startedAt);
        }
        default:
          throw new Error(`customers traffic has no request kind ${kind}`);
      }
    },
    result: () => memory.result(),
  };
}
