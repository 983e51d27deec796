import type { NestExpressApplication } from '@nestjs/platform-express';
import { mongoServerName, startMongo, uniqueMongoDbName, type MongoService } from '@zdm/dev-services';
import { mongo } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sizes of the run: clients (one customer each), how long the store stays frozen, the request deadline. */
const CLIENTS = 8;
const FREEZE_MS = 10_000;
const DEADLINE_MS = 1_500;

/** What one client saw: its PATCHes in the order it sent them, one at a time. */
interface ClientLog {
  id: string;
  sent: { value: string; status: number; answeredAt: number }[];
}

/**
 * One client: PATCHes its customer's lastName with a fresh value, one request at a time, until
 * `stop()` says so; then keeps going until it has had a 200 after `stop` (so its log ends with an
 * acknowledged value).
 */
async function patchLoop(http: ReturnType<typeof request>, client: number, log: ClientLog, stopped: () => boolean): Promise<void> {
  for (let n = 0; ; n++) {
    const value = `C${client}n${n}`;
    const res = await http.patch(`/customers/${log.id}`).send({ lastName: value });
    log.sent.push({ value, status: res.status, answeredAt: Date.now() });
    if (stopped() && res.status === 200) return;
    if (res.status !== 200) await sleep(100);
  }
}

/**
 * The store (a local FerretDB, or mongo-java-server with ZDM_MONGO_SERVER=atomic) is frozen with
 * SIGSTOP for 10 s while clients PATCH their customers, one request at a time each. Requests sent
 * during the freeze are answered 503 at their deadline while their commands sit in the store's
 * socket buffers; once it thaws, none of them may land behind a later acknowledged PATCH.
 */
describe('customers when the store freezes mid-write (SIGSTOP of the store process)', () => {
  let store: MongoService;
  let app: NestExpressApplication;
  let client: mongo.MongoClient;
  const dbName = uniqueMongoDbName('store_freeze');

  beforeAll(async () => {
    store = await startMongo({ sources: ['local'] });
    if (!store.pid) throw new Error(`the store must be a local process this suite can freeze, got ${store.description}`);
    client = await new mongo.MongoClient(store.url).connect();
    console.info(`mongo server: ${mongoServerName(await client.db(dbName).admin().command({ buildInfo: 1 }))} [store-freeze]`);
    app = await startCustomersApp({ MONGO_URL: store.url, MONGO_DB: dbName, REQUEST_TIMEOUT_MS: String(DEADLINE_MS) });
  }, 90_000);
  afterAll(async () => {
    if (store?.pid) process.kill(store.pid, 'SIGCONT');
    await app?.close();
    await client?.close();
    await store?.stop();
  }, 60_000);

  it('keeps the last acknowledged value of every customer: no PATCH sent during the freeze lands after a later 200', async () => {
    const http = await authorizedHttp(app);
    const logs: ClientLog[] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const res = await http.post('/customers').send({ firstName: `Client${c}`, lastName: 'Start' }).expect(201);
      logs.push({ id: res.body.id, sent: [] });
    }
    // Every (lastName, updatedAt) a customer is seen with, polled straight from the store.
    const customers = client.db(dbName).collection('customers');
    const seen = new Map<string, Date>();
    let polling = true;
    const poller = (async () => {
      const ids = logs.map((l) => new mongo.ObjectId(l.id));
      while (polling) {
        for (const doc of await customers.find({ _id: { $in: ids } }).toArray()) seen.set(String(doc['lastName']), doc['updatedAt'] as Date);
        await sleep(20);
      }
    })();
    let stop = false;
    const loops = logs.map((log, c) => patchLoop(http, c, log, () => stop));
    await sleep(1_500);
    const frozenAt = Date.now();
    process.kill(store.pid as number, 'SIGSTOP');
    try {
      await sleep(FREEZE_MS);
    } finally {
      process.kill(store.pid as number, 'SIGCONT');
    }
    const thawedAt = Date.now();
    await sleep(4_000);
    stop = true;
    await Promise.all(loops);
    // Let anything still running in the background (a request past its deadline) settle.
    await sleep(3_000);
    polling = false;
    await poller;

    const lost: string[] = [];
    let duringFreeze = 0;
    let acked = 0;
    for (const [c, log] of logs.entries()) {
      const lastAcked = [...log.sent].reverse().find((s) => s.status === 200);
      acked += log.sent.filter((s) => s.status === 200).length;
      duringFreeze += log.sent.filter((s) => s.answeredAt >= frozenAt && s.answeredAt <= thawedAt + DEADLINE_MS).length;
      const stored = await customers.findOne({ _id: new mongo.ObjectId(log.id) });
      if (stored?.['lastName'] !== lastAcked?.value) lost.push(`client ${c}: stored ${String(stored?.['lastName'])}, last acknowledged ${lastAcked?.value}`);
    }
    const statuses = logs.flatMap((l) => l.sent.map((s) => s.status));
    const count = (status: number) => statuses.filter((s) => s === status).length;
    console.info(
      `store-freeze: ${statuses.length} PATCHes (${acked} acknowledged, ${count(503)} 503, ${count(504)} 504, ${statuses.length - acked - count(503) - count(504)} other), ` +
        `${duringFreeze} answered during the ${FREEZE_MS / 1000} s freeze; ${lost.length} of ${CLIENTS} customers lost their last acknowledged value`,
    );
    // A request answered 503/504 had passed its deadline by then: nothing of it may be decided later
    // (mongoose stamps updatedAt when it builds the update, in the same request).
    const late = logs
      .flatMap((l) => l.sent)
      .filter((s) => s.status !== 200 && seen.has(s.value) && (seen.get(s.value) as Date).getTime() > s.answeredAt)
      .map((s) => `${s.value} written at ${(seen.get(s.value) as Date).toISOString()}, answered ${s.status} at ${new Date(s.answeredAt).toISOString()}`);
    console.info(`store-freeze: ${seen.size} values seen in the store, ${late.length} written after their request was answered 503/504`);
    expect(late).toEqual([]);
    expect(lost).toEqual([]);
    // The freeze really caught requests, and every answer was a 200 or a 503 naming the store at the deadline.
    expect(duringFreeze).toBeGreaterThanOrEqual(CLIENTS);
    expect(statuses.filter((s) => ![200, 503].includes(s))).toEqual([]);
    // No claim is left behind once everything settled.
    expect(await client.db(dbName).collection('zdm_claims').countDocuments()).toBe(0);
  });
});
