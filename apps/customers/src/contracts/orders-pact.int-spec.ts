import { type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Verifier } from '@pact-foundation/pact';
import { integrationServices, uniqueMongoDbName } from '@zdm/dev-services';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Observable, map } from 'rxjs';
import { startCustomersApp, testBearer } from '../testing/customers-app.fixture';
import { type MaterializedRelease, type ReleaseProcess, materializeRelease, startRelease, stopRelease } from '../testing/release-process';

jest.setTimeout(240_000);

/**
 * Provider verification of the contracts customers' consumers committed: every release of
 * customers that may be live (v1, blue, extracted from git history; HEAD, green) must honour them.
 * Provider states are seeded through the provider's own API, so the data is whatever that release
 * really stores.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const ORDERS_PACT = path.join(ROOT, 'libs', 'orders', 'customers-client', 'pacts', 'orders-customers.json');

const services = integrationServices(['mongo']);

type Json = Record<string, unknown>;

async function call(baseUrl: string, method: string, route: string, authorization: string, body?: unknown): Promise<{ status: number; body: Json | null }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : null };
}

/**
 * The states orders' pact names, each set up through the provider's API at `baseUrl` as a logged-in
 * client (`authorization`: HEAD needs a token to write; v1 ignores it). The interactions themselves
 * are reads, which need none: orders reads customers without a token.
 */
function stateHandlers(baseUrl: string, authorization: string) {
  return {
    'a customer exists': async (params?: unknown) => {
      const { firstName, lastName } = params as { firstName: string; lastName: string };
      const created = await call(baseUrl, 'POST', '/customers', authorization, { firstName, lastName });
      if (created.status !== 201) throw new Error(`POST /customers answered ${created.status}: ${JSON.stringify(created.body)}`);
      return { id: created.body?.['id'] as string };
    },
    'no customer has the id': async (params?: unknown) => {
      const { id } = params as { id: string };
      const removed = await call(baseUrl, 'DELETE', `/customers/${id}`, authorization);
      if (removed.status !== 204 && removed.status !== 404) throw new Error(`DELETE /customers/${id} answered ${removed.status}`);
    },
  };
}

/** What the verifier's JSON report says, in one line per interaction. */
function summarize(report: string): { ok: boolean; lines: string[] } {
  const parsed = JSON.parse(report) as {
    result?: boolean;
    errors?: { interaction?: string; mismatch?: { message?: string; mismatches?: { mismatch?: string; path?: string }[] } }[];
  };
  const lines = (parsed.errors ?? []).map(({ interaction, mismatch }) => {
    const found = mismatch?.mismatches?.map((m) => `${m.path ?? ''} ${m.mismatch ?? ''}`.trim()) ?? [mismatch?.message ?? JSON.stringify(mismatch)];
    return `${interaction}: ${found.join('; ')}`;
  });
  return { ok: parsed.result === true, lines };
}

/** Verifies orders' pact against the provider at `baseUrl`; resolves with the verifier's report, passed or not. */
async function verify(label: string, baseUrl: string): Promise<{ ok: boolean; lines: string[]; interactions: number }> {
  const interactions = (JSON.parse(readFileSync(ORDERS_PACT, 'utf8')).interactions as unknown[]).length;
  const report = await new Verifier({
    provider: 'customers',
    providerBaseUrl: baseUrl,
    pactUrls: [ORDERS_PACT],
    stateHandlers: stateHandlers(baseUrl, await testBearer()),
    logLevel: 'warn',
  })
    .verifyProvider()
    .catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
  const result = { ...summarize(report), interactions };
  const verdict = result.ok ? `verified: ${interactions} of ${interactions} interactions pass` : `FAILED:\n  ${result.lines.join('\n  ')}`;
  console.info(`[pact] orders -> customers, provider ${label}: ${verdict}`);
  return result;
}

async function listen(app: NestExpressApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

/** A deliberately broken customers: its responses call `lastName` `surname`, as a careless rename would. */
class RenameLastName implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((body: unknown) => {
        if (!body || typeof body !== 'object' || !('lastName' in body)) return body;
        const { lastName, ...rest } = body as Json;
        return { ...rest, surname: lastName };
      }),
    );
  }
}

describe("orders' contract with customers (provider verification)", () => {
  const mongoEnv = () => ({ MONGO_URL: services.mongo.url, HEARTBEAT_INTERVAL_MS: '1000' });

  it('names only states that the verification knows how to set up', () => {
    const pact = JSON.parse(readFileSync(ORDERS_PACT, 'utf8')) as { consumer: { name: string }; provider: { name: string }; interactions: { providerStates?: { name: string }[] }[] };
    expect([pact.consumer.name, pact.provider.name]).toEqual(['orders', 'customers']);
    const named = new Set(pact.interactions.flatMap((i) => (i.providerStates ?? []).map((s) => s.name)));
    expect([...named].filter((state) => !(state in stateHandlers('', '')))).toEqual([]);
    expect(pact.interactions.length).toBeGreaterThanOrEqual(2);
  });

  describe('customers v1 (blue, materialized from git)', () => {
    let release: MaterializedRelease & { remove(): void };
    let blue: ReleaseProcess;

    beforeAll(async () => {
      release = await materializeRelease('customers', 'v1');
      blue = await startRelease(release, { ...mongoEnv(), MONGO_DB: uniqueMongoDbName('pact_v1'), INSTANCE_ID: 'pact-blue', SHUTDOWN_DRAIN_MS: '100' });
    });
    afterAll(async () => {
      await stopRelease(blue);
      release?.remove();
    });

    it('honours the pact', async () => {
      const result = await verify(`v1 (blue, commit ${release.commit.slice(0, 12)}, API 1.0)`, blue.url);
      expect(result.lines).toEqual([]);
      expect(result.ok).toBe(true);
    });
  });

  describe('customers HEAD (green, this build)', () => {
    let green: NestExpressApplication;
    let url: string;

    beforeAll(async () => {
      green = await startCustomersApp({ ...mongoEnv(), MONGO_DB: uniqueMongoDbName('pact_head'), INSTANCE_ID: 'pact-green', BUILD: 'green' });
      url = await listen(green);
    });
    afterAll(() => green?.close());

    it('honours the pact', async () => {
      const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      const result = await verify(`HEAD (green, commit ${head}, API 1.1)`, url);
      expect(result.lines).toEqual([]);
      expect(result.ok).toBe(true);
    });
  });

  describe('a customers change that breaks orders (lastName renamed to surname in responses)', () => {
    let broken: NestExpressApplication;
    let url: string;

    beforeAll(async () => {
      broken = await startCustomersApp({ ...mongoEnv(), MONGO_DB: uniqueMongoDbName('pact_broken'), INSTANCE_ID: 'pact-broken' }, (app) =>
        app.useGlobalInterceptors(new RenameLastName()),
      );
      url = await listen(broken);
    });
    afterAll(() => broken?.close());

    it('fails verification, and the failure names the field orders reads', async () => {
      const result = await verify('HEAD with lastName renamed (a deliberate break: this verification must fail)', url);
      expect(result.ok).toBe(false);
      expect(result.lines).toHaveLength(1);
      expect(result.lines[0]).toMatch(/a request for an existing customer: \$ Actual map is missing the following keys: lastName$/);
    });
  });
});
