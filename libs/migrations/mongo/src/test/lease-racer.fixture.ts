/**
 * A child process for the lease race: connects to `--url`/`--db`, then for every line
 * `{"key", "at"}` on stdin waits until `at` (epoch ms) and tries to acquire `key` as `--owner`,
 * printing `{"key", "won", "token"}`. Two of these race on one expired lease per line.
 */
import { mongo } from 'mongoose';
import { createInterface } from 'node:readline';
import { createMongoControlStore } from '../lib/mongo-control.store';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || !process.argv[i + 1]) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
};

async function main(): Promise<void> {
  const client = await new mongo.MongoClient(arg('url')).connect();
  const store = createMongoControlStore(client.db(arg('db')));
  const owner = arg('owner');
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const { key, at } = JSON.parse(line) as { key: string; at: number };
    await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
    const lease = await store.leases.acquire(key, owner, 60_000);
    process.stdout.write(JSON.stringify({ key, won: lease !== null, token: lease?.token ?? null }) + '\n');
  }
  await client.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
