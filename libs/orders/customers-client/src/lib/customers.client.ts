import { DependencyUnavailableError, currentDeadline, waitingOn } from '@zdm/service-defaults';
import { z } from 'zod';

/** The name orders gives the customers API as a dependency (readiness, 503 bodies, logs). */
export const CUSTOMERS_DEPENDENCY = 'customers';

/** What orders needs to know of a customer, whichever version of the customers API answered. */
export interface CustomerSummary {
  id: string;
  firstName: string;
  lastName: string;
  /** From the API when it sends one (API 1.1); derived from the parts otherwise (API 1.0). */
  fullName: string;
}

/** How to reach the customers API. */
export interface CustomersClientOptions {
  /** Base URL of the customers API, e.g. `http://customers:3000` (a trailing slash is fine). */
  baseUrl: string;
  /** Longest wait for one answer, in ms, whatever the deadline says (default 2,000). */
  timeoutMs?: number;
  /** The fetch to call (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of one call. */
export interface GetCustomerOptions {
  /**
   * Epoch ms after which the answer is of no use. Defaults to the current HTTP request's deadline
   * (from @zdm/service-defaults), so a call never outlives the request that made it.
   */
  deadline?: number;
}

/**
 * The customers API cannot answer usefully now: unreachable, too slow (timeout or deadline), a
 * 5xx, or an answer that is not what the contract says. A service built on the service defaults
 * answers it with 503, `Retry-After` and `dependency: "customers"`.
 */
export class CustomersUnavailableError extends DependencyUnavailableError {
  constructor(
    reason: string,
    /** The HTTP status the API answered, when it answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(CUSTOMERS_DEPENDENCY, reason);
    this.name = 'CustomersUnavailableError';
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/**
 * The full name exactly as customers derives it (API 1.1 `fullName`): both parts joined by one
 * space, or the one non-empty part alone. Orders may not import customers' code, so the rule is
 * stated here and held to the API by the contract tests.
 */
export function deriveFullName(firstName: string, lastName: string): string {
  if (!lastName) return firstName;
  if (!firstName) return lastName;
  return `${firstName} ${lastName}`;
}

/** The fields orders reads of `GET /customers/:id`; every other field is ignored. */
const customerBody = z.object({
  id: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  fullName: z.string().optional(),
});

const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Orders' client of the customers API. Works with API 1.0 (`firstName`, `lastName`) and 1.1
 * (plus `fullName`), so orders keeps working through every phase of `customers.full-name`.
 * One request per call, no retries: the caller's request has its own deadline.
 */
export class CustomersClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(opts: CustomersClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  /**
   * The customer with this id, or `undefined` when the API answers 404. Throws
   * {@link CustomersUnavailableError} when the API is unreachable, answers 5xx or anything else
   * unexpected, or does not answer before the timeout or the deadline.
   */
  async getCustomer(id: string, opts: GetCustomerOptions = {}): Promise<CustomerSummary | undefined> {
    const budget = this.budgetMs(opts.deadline ?? currentDeadline());
    if (budget <= 0) throw new CustomersUnavailableError('the deadline passed before the request was sent');
    const done = waitingOn(CUSTOMERS_DEPENDENCY);
    try {
      const url = `${this.baseUrl}/customers/${encodeURIComponent(id)}`;
      const signal = AbortSignal.timeout(budget);
      let res: Response;
      let body: unknown;
      try {
        res = await this.fetch(url, { headers: { accept: 'application/json' }, signal });
        if (res.status === 404) {
          await res.body?.cancel();
          return undefined;
        }
        body = res.ok ? await res.json() : undefined;
        if (!res.ok) await res.body?.cancel();
      } catch (err) {
        throw new CustomersUnavailableError(failureReason(err, budget), undefined, { cause: err });
      }
      if (!res.ok) throw new CustomersUnavailableError(`GET /customers/:id answered ${res.status}`, res.status);
      return summary(body, res.status);
    } finally {
      done();
    }
  }

  private budgetMs(deadline: number | undefined): number {
    return deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - Date.now());
  }
}

function summary(body: unknown, status: number): CustomerSummary {
  const parsed = customerBody.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new CustomersUnavailableError(`GET /customers/:id answered a body that is not a customer (${fields})`, status);
  }
  const { id, firstName, lastName, fullName } = parsed.data;
  return { id, firstName, lastName, fullName: fullName ?? deriveFullName(firstName, lastName) };
}

function failureReason(err: unknown, budgetMs: number): string {
  // By name: fetch's DOMException and SyntaxError may come from another realm than this module's.
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${budgetMs} ms`;
  if (name === 'SyntaxError') return 'GET /customers/:id answered a body that is not JSON';
  return 'the customers API cannot be reached';
}
