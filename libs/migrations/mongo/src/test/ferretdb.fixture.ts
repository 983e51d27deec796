import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mongo } from 'mongoose';

/** A MongoDB-compatible server for one suite: `MONGO_URL` when set, otherwise a local FerretDB (SQLite). */
export interface TestMongo {
  url: string;
  /** A database name of this suite's own. */
  dbName: string;
  /** A driver client, connected; closed by `stop()`. */
  client: mongo.MongoClient;
  db: mongo.Db;
  /** Drops the suite's database, closes the client and stops the server this fixture started. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function ferretdbBinary(): string {
  const candidates = [process.env['FERRETDB_BIN'], join(homedir(), 'go', 'bin', 'ferretdb')];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  return found ?? 'ferretdb';
}

async function startFerretDb(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'zdm-ferretdb-'));
  const proc: ChildProcess = spawn(
    ferretdbBinary(),
    ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`, `--state-dir=${dir}`, '--debug-addr=-', '--telemetry=disable', '--log-level=error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += String(d)));
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `mongodb://127.0.0.1:${port}/`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (proc.exitCode !== null) throw new Error(`ferretdb exited with ${proc.exitCode}: ${stderr}`);
    const probe = new mongo.MongoClient(url, { serverSelectionTimeoutMS: 200 });
    try {
      await probe.connect();
      await probe.db('admin').command({ ping: 1 });
      return { url, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await probe.close();
    }
  }
  await stop();
  throw new Error(`ferretdb did not answer on port ${port}: ${stderr || '(no output)'}; set MONGO_URL or FERRETDB_BIN`);
}

/** Starts (or finds) the server and connects; call from `beforeAll`. */
export async function startTestMongo(suite: string): Promise<TestMongo> {
  const dbName = `zdm_${suite.replace(/[^a-z0-9]+/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const local = process.env['MONGO_URL'] ? null : await startFerretDb();
  const url = process.env['MONGO_URL'] ?? (local as { url: string }).url;
  const client = new mongo.MongoClient(url);
  await client.connect();
  const db = client.db(dbName);
  return {
    url,
    dbName,
    client,
    db,
    async stop() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
      await local?.stop();
    },
  };
}

/** `startTestMongo` in `beforeAll` and `stop` in `afterAll`; read the fields inside tests. */
export function useTestMongo(suite: string): TestMongo {
  let started: TestMongo | undefined;
  beforeAll(async () => {
    started = await startTestMongo(suite);
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  }, 60_000);
  const get = () => {
    if (!started) throw new Error('the test server is not started yet; use it inside tests or hooks');
    return started;
  };
  return {
    get url() {
      return get().url;
    },
    get dbName() {
      return get().dbName;
    },
    get client() {
      return get().client;
    },
    get db() {
      return get().db;
    },
    stop: () => get().stop(),
  };
}

/** `value`, or a failed test saying what was missing. */
export function present<T>(value: T, what = 'a value'): NonNullable<T> {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}
