import { mongo } from 'mongoose';
import { shouldSkipIntegration } from '../lib/integration';
import { MONGO_JAVA_SERVER_VERSION, mongoServerName, startMongo } from '../lib/mongo';
import type { MongoService } from '../lib/types';

const RACERS = 4;
const ROUNDS = 200;

(shouldSkipIntegration() ? describe.skip : describe)('the atomic MongoDB wire server (ZDM_MONGO_SERVER=atomic)', () => {
  const saved = process.env.ZDM_MONGO_SERVER;
  let server: MongoService;
  let client: mongo.MongoClient;

  beforeAll(async () => {
    process.env.ZDM_MONGO_SERVER = 'atomic';
    server = await startMongo({ sources: ['local'] });
    client = await new mongo.MongoClient(server.url).connect();
  }, 60_000);

  afterAll(async () => {
    process.env.ZDM_MONGO_SERVER = saved;
    if (saved === undefined) delete process.env.ZDM_MONGO_SERVER;
    await client?.close();
    await server?.stop();
  });

  it('is a local mongo-java-server that names itself in buildInfo', async () => {
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(server.source).toBe('local');
    expect(server.description).toMatch(new RegExp(`^mongo-java-server ${MONGO_JAVA_SERVER_VERSION.replace(/\./g, '\\.')} \\(memory, atomic updates\\) pid \\d+$`));
    expect(mongoServerName(info)).toBe(`mongo-java-server ${MONGO_JAVA_SERVER_VERSION}`);
    expect(info).not.toHaveProperty('ferretdbVersion');
  });

  it(`keeps ${RACERS} racing read-then-compare-and-set clients exact: ${RACERS * ROUNDS} of ${RACERS * ROUNDS} increments`, async () => {
    const counters = client.db('atomic_smoke').collection<{ _id: string; n: number }>('counters');
    await counters.insertOne({ _id: 'c', n: 0 });
    let conflicts = 0;
    const racer = async () => {
      for (let done = 0; done < ROUNDS; ) {
        const current = await counters.findOne({ _id: 'c' });
        const { modifiedCount } = await counters.updateOne({ _id: 'c', n: current?.n }, { $set: { n: (current?.n ?? 0) + 1 } });
        if (modifiedCount === 1) done++;
        else conflicts++;
      }
    };
    await Promise.all(Array.from({ length: RACERS }, racer));
    expect((await counters.findOne({ _id: 'c' }))?.n).toBe(RACERS * ROUNDS);
    console.info(`atomic server: ${RACERS * ROUNDS} compare-and-set increments from ${RACERS} clients, ${conflicts} conflicts retried`);
    // About 2,000 round trips to a JVM that may still be warming up: it checks exactness, not speed.
  }, 60_000);
});
