import { emptyCheckpoint } from '@zdm/migrations-core';
import { describeControlStore } from '@zdm/migrations-core/testing';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestMongo } from '../test/ferretdb.fixture';
import { controlCollectionNames, createMongoControlStore } from './mongo-control.store';

jest.setTimeout(60_000);

const mongo = useTestMongo('control-store');
let cases = 0;

// Each case gets collections of its own (a prefix per case) on the suite's database. Lease expiry
// is read from the wall clock: a timer may fire a millisecond early, hence the 10 ms more.
describeControlStore('MongoDB', () => ({ store: createMongoControlStore(mongo.db, { prefix: `zdm_c${++cases}_` }), now: Date.now, elapse: (ms) => sleep(ms + 10) }), {
  exactTime: false,
});

describe('createMongoControlStore on its database', () => {
  it('reads without writing anything, not even its collections (so a dry run leaves no trace)', async () => {
    const untouched = createMongoControlStore(mongo.db, { prefix: 'zdmro_' });
    await untouched.state.load('m');
    await untouched.state.list();
    await untouched.leases.readCheckpoint('k');
    await untouched.audit.list('m');
    await untouched.quarantine.list('m');
    await untouched.quarantine.count('m');
    await untouched.heartbeats.live();
    const names = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    expect(names.filter((n) => n.startsWith('zdmro_'))).toEqual([]);
  });

  it('creates its indexes idempotently, also from a second store on the same database', async () => {
    const first = createMongoControlStore(mongo.db);
    const second = createMongoControlStore(mongo.db);
    await second.quarantine.remove('m.none', 'x');
    await first.quarantine.remove('m.none', 'x');
    const names = controlCollectionNames();
    const index = async (collection: string) => (await mongo.db.collection(collection).indexes()).map((i) => i.name);
    expect(await index(names.audit)).toContain('zdm_audit_by_migration');
    expect(await index(names.quarantine)).toContain('zdm_quarantine_by_migration');
    expect(await index(names.heartbeats)).toContain('zdm_expiry');
  });
});

describe('leases on MongoDB servers', () => {
  it('takes the next token once a token whose holder never recorded it in the lease has expired, and not before', async () => {
    const store = createMongoControlStore(mongo.db, { prefix: 'zdm_lapsed_' });
    const first = await store.leases.acquire('job', 'runner-a', 1);
    expect(first).toMatchObject({ token: 1 });
    await sleep(10);
    // Token 2 taken by a runner killed between its epoch record and its lease record: the lease still shows token 1.
    const epochs = mongo.db.collection(controlCollectionNames('zdm_lapsed_').leaseEpochs);
    await epochs.insertOne({ _id: 'job#2', key: 'job', owner: 'killed', at: new Date(), expiresAt: new Date(Date.now() + 400) } as never);
    expect(await store.leases.acquire('job', 'runner-b', 60_000)).toBeNull();
    await sleep(450);
    const taken = await store.leases.acquire('job', 'runner-b', 60_000);
    expect(taken).toMatchObject({ owner: 'runner-b', token: 3 });
    expect(await store.leases.writeCheckpoint('job', 3, emptyCheckpoint())).toBe(true);
    expect(await store.leases.writeCheckpoint('job', 2, emptyCheckpoint())).toBe(false);
  });
});

/** A lease-racer child process (test/lease-racer.fixture.ts) and its answers, one per race. */
function startRacer(owner: string) {
  const root = resolve(__dirname, '../../../../..');
  const proc = spawn(
    resolve(root, 'node_modules/.bin/node'),
    ['-r', '@swc-node/register', resolve(__dirname, '../test/lease-racer.fixture.ts'), '--url', mongo.url, '--db', mongo.dbName, '--owner', owner],
    { cwd: root, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json' }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const answers: { key?: string; won?: boolean; token?: number | null; ready?: boolean }[] = [];
  createInterface({ input: proc.stdout as Readable }).on('line', (line) => answers.push(JSON.parse(line)));
  return { owner, proc, answers, race: (key: string, at: number) => proc.stdin?.write(JSON.stringify({ key, at }) + '\n') };
}

describe('lease acquisition between processes', () => {
  it('gives an expired lease to exactly one of two processes racing for it, every time (40 races)', async () => {
    const racers = [startRacer('racer-a'), startRacer('racer-b')];
    try {
      const until = async (what: string, holds: () => boolean) => {
        for (const end = Date.now() + 60_000; !holds(); await sleep(5)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      };
      await until('both racers to connect', () => racers.every((r) => r.answers.some((a) => a.ready)));
      const store = createMongoControlStore(mongo.db);
      const rounds: { key: string; winners: string[]; tokens: (number | null | undefined)[] }[] = [];
      for (let round = 1; round <= 40; round++) {
        const key = `race-${round}`;
        // An expired lease: taken once (token 1), for 1 ms.
        expect(await store.leases.acquire(key, 'gone', 1)).toMatchObject({ token: 1 });
        await sleep(5);
        const at = Date.now() + 40;
        for (const racer of racers) racer.race(key, at);
        await until(`both answers for ${key}`, () => racers.every((r) => r.answers.some((a) => a.key === key)));
        const answers = racers.map((r) => ({ owner: r.owner, ...r.answers.find((a) => a.key === key) }));
        rounds.push({ key, winners: answers.filter((a) => a.won).map((a) => a.owner), tokens: answers.filter((a) => a.won).map((a) => a.token) });
      }
      const wins = (owner: string) => rounds.filter((r) => r.winners.includes(owner)).length;
      console.info(`lease race: ${rounds.length} races, racer-a won ${wins('racer-a')}, racer-b won ${wins('racer-b')}, ${rounds.filter((r) => r.winners.length !== 1).length} with no or two winners`);
      expect(rounds.filter((r) => r.winners.length !== 1)).toEqual([]);
      expect(rounds.every((r) => r.tokens[0] === 2)).toBe(true);
    } finally {
      for (const racer of racers) racer.proc.kill();
    }
  });
});
