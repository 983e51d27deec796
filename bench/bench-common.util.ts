/**
 * What bench:backfill and bench:read share: the command line, the store, the v1 documents and
 * their migration, the machine description, percentiles, and writing the one-line JSON result.
 * Plain TypeScript run by tools/scripts/run-ts.mjs; not part of any Nx project.
 */
import { MongoService, indexFerretDbIds, startMongo } from '@zdm/dev-services';
import { Doc, MigrationDefinition } from '@zdm/migrations-core';
import { customerDoc, placeInPhase, fullNameMigration as sharedFullNameMigration } from '@zdm/migrations-core/testing';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { mongo } from 'mongoose';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BENCH_DIR = __dirname;
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Numeric `--name value` (or `--name=value`) options; anything unknown or not a number >= 0 stops the bench with the reason. */
export function parseArgs<T extends Record<string, number>>(defaults: T, usage: string): T {
  const args = process.argv.slice(2);
  const out: Record<string, number> = { ...defaults };
  const known = Object.keys(defaults).map(flag).join(', ');
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split('=', 2);
    const raw = inline ?? args[++i];
    const key = name.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!name.startsWith('--') || !(key in defaults)) fail(`unknown option ${JSON.stringify(name)}: expected one of ${known}\n${usage}`);
    const value = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(value) || value < 0) fail(`${name} needs a number >= 0, got ${JSON.stringify(raw)}\n${usage}`);
    out[key] = value;
  }
  return out as T;
}

const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** Progress goes to stderr, so stdout carries only the final JSON line. */
export const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The store every run of one bench uses: MONGO_URL, else a local FerretDB from @zdm/dev-services. */
export interface BenchStore {
  service: MongoService;
  client: mongo.MongoClient;
  db: mongo.Db;
  dbName: string;
  /** e.g. `FerretDB v1.24.2 (SQLite) via @zdm/dev-services (local)`. */
  description: string;
  ferretdb: boolean;
  /** Makes sure every collection's `_id` lookups are indexed (local FerretDB only; else a no-op). */
  indexIds(): void;
  stop(): Promise<void>;
}

export async function openStore(bench: string): Promise<BenchStore> {
  const service = await startMongo({ log });
  const client = new mongo.MongoClient(service.url);
  await client.connect();
  const dbName = `zdm_bench_${bench}_${process.pid}`;
  const db = client.db(dbName);
  const info = await db.admin().command({ buildInfo: 1 });
  const ferretdb = typeof info['ferretdbVersion'] === 'string';
  const engine = ferretdb ? `FerretDB ${info['ferretdbVersion']} (SQLite)` : `MongoDB ${info['version']}`;
  return {
    service,
    client,
    db,
    dbName,
    ferretdb,
    description: `${engine} via @zdm/dev-services (${service.source})`,
    indexIds: () => {
      if (!service.dir) return;
      const pass = indexFerretDbIds(service.dir);
      if (pass.errors.length) log(`id index pass: ${pass.errors.join('; ')}`);
    },
    async stop() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
      await service.stop();
    },
  };
}

/**
 * Drops `name` and fills it with `count` v1 customers in insertMany commands of 5000, then indexes
 * `_id`, and puts its migration in the backfill phase (the orchestrator runs a backfill only there).
 */
export async function seedCustomers(store: BenchStore, name: string, count: number): Promise<mongo.Collection> {
  const collection = store.db.collection(name);
  await collection.drop().catch(() => undefined);
  const started = performance.now();
  for (let i = 0; i < count; i += 5000) {
    await collection.insertMany(Array.from({ length: Math.min(5000, count - i) }, (_, j) => customerDoc(i + j)), { ordered: false });
  }
  store.indexIds();
  await placeInPhase(createMongoControlStore(store.db), fullNameMigration(name), 'backfill');
  log(`seeded ${count} v1 documents into ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return collection;
}

/**
 * The reference migration of the specs (`fullNameMigration` of `@zdm/migrations-core/testing`:
 * firstName + lastName -> fullName, v1 -> v2, with its verify) on the bench's own `collection`.
 */
export function fullNameMigration(collection: string): MigrationDefinition {
  return sharedFullNameMigration({ id: `bench.full-name.${collection.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`, service: 'bench', collection });
}

/** Machine, store, Node and date fields every result carries. */
export function environment(store: BenchStore): Doc {
  let distro = os.type();
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch {
    // not Linux: keep os.type()
  }
  return {
    machine: `${distro}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    store: store.description,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** The `p`-th percentile (0..100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Rounds to `digits` decimals for the JSON result. */
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Prints the result as one JSON line on stdout and writes the same line to bench/results/<name>.json. */
export function writeResult(name: string, result: Doc): void {
  const line = JSON.stringify(result);
  const dir = path.join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), `${line}\n`);
  console.log(line);
}

/** Resident memory of a process in MB: its peak (VmHWM) or its current (VmRSS); 0 once it is gone. */
export function rssMb(pid: number | 'self', which: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  try {
    const match = new RegExp(`^${which}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Sets this process's peak RSS back to its current RSS (Linux: `5` into /proc/self/clear_refs), so
 * the peak measured afterwards leaves out the transient of compiling the TypeScript at start-up.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The line the zdm child prints once its modules are loaded and its peak RSS is reset. */
export const CHILD_RUNNING = '{"running":true}';
/** The line the zdm child prints once its first batch is written. */
export const CHILD_WRITING = '{"writing":true}';

/** Options of the zdm backfill child (bench/zdm-backfill.child.ts), passed as JSON in argv. */
export interface ZdmChildOptions {
  url: string;
  dbName: string;
  collection: string;
  /** Fixed batch size (initial = min = max), or null for the throttle's own default sizes. */
  batch: number | null;
  /** Extra throttle options on top of the defaults (the read bench's throttled/unthrottled runs). */
  throttle?: Doc;
  /** Stops the run after this many seconds (0: run to the end). */
  seconds: number;
  /** The adapter's undo log (what a rollback before contract restores from). Default on. */
  undoLog?: boolean;
}

/** What the child reports on its last stdout line. */
export interface ZdmChildResult {
  status: string;
  written: number;
  processed: number;
  conflicts: number;
  quarantined: number;
  batches: number;
  seconds: number;
  /** Seconds spent before the first batch (connect, lease, counting the remaining documents). */
  firstBatchAfterSeconds: number;
  meanBatchMs: number;
  /** Peak RSS of the run, from after module loading (VmHWM reset then) to the end. */
  peakRssMb: number;
  /** RSS once the modules were loaded, before the run. */
  loadedRssMb: number;
  /** Peak RSS including start-up (swc compiling the workspace's TypeScript), before the reset. */
  startupPeakRssMb: number;
  /** Whether the peak could be reset (else peakRssMb includes start-up). */
  peakReset: boolean;
  /** [documents written, RSS MB] about every 10 s: flat when memory is O(batch). */
  rssTrace: [number, number][];
  /** process.memoryUsage() at the end, in MB: how much of the RSS is JS heap and how much of it is live. */
  memoryAtEndMb: Record<string, number>;
}

/** A zdm backfill running in its own process; `result` settles when it exits. */
export interface ZdmChild {
  pid: number;
  /** Stops the run between batches (SIGTERM); the checkpoint stays for a resume. */
  stop(): void;
  /** Resolves once the first batch is written. */
  writing: Promise<void>;
  result: Promise<ZdmChildResult & { sampledPeakRssMb: number }>;
}

/**
 * V8 flags of the zdm child, as a service would run a migration: the old generation capped at 128 MB
 * and 2 MB semi-spaces. Without them V8 grows its heap lazily although the live data are O(batch)
 * (README.md has the peaks measured with and without).
 */
export const ZDM_CHILD_NODE_FLAGS = ['--max-old-space-size=128', '--max-semi-space-size=2'];

/** Starts bench/zdm-backfill.child.ts under Node with the workspace aliases, sampling its RSS every 200 ms. */
export function spawnZdmChild(options: ZdmChildOptions): ZdmChild {
  const child = spawn(process.execPath, [...ZDM_CHILD_NODE_FLAGS, path.join(REPO_ROOT, 'tools/scripts/run-ts.mjs'), path.join(BENCH_DIR, 'zdm-backfill.child.ts'), JSON.stringify(options)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid ?? fail('could not start the zdm child process');
  // Sampled only once the child has loaded its modules and reset its peak (see resetPeakRss).
  let sampled = 0;
  let running = false;
  const sampler = setInterval(() => running && (sampled = Math.max(sampled, rssMb(pid))), 200);
  let stdout = '';
  let markWriting = () => undefined as void;
  const writing = new Promise<void>((resolve) => (markWriting = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    running ||= stdout.includes(CHILD_RUNNING);
    if (stdout.includes(CHILD_WRITING)) markWriting();
  });
  const result = new Promise<ZdmChildResult & { sampledPeakRssMb: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(sampler);
      markWriting();
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ ...(JSON.parse(last) as ZdmChildResult), sampledPeakRssMb: round(sampled, 1) });
      } catch {
        reject(new Error(`zdm child exited (code ${code}, signal ${signal}) without a result; stdout: ${stdout.slice(-500)}`));
      }
    });
  });
  return { pid, stop: () => child.kill('SIGTERM'), writing, result };
}
