// The operator's command for signing-key rotations of the auth hub:
//   node tools/scripts/run-ts.mjs apps/auth-hub/src/keys/rotate-keys.main.ts status
//   ... start <kid> --reason "..."     (every live hub must hold the key: deploy the ring first)
//   ... advance --reason "..."         (expand -> switch -> contract -> complete, each when its gates hold)
// Environment: MONGO_URL (required), MONGO_DB (default auth-hub), TOKEN_VERIFIERS (required: the
// services that verify tokens, `customers=http://customers:3000,orders=http://orders:3000`, or
// `none`; every live instance of each must have fetched the new key before the hubs sign with it), and
// ACCESS_TOKEN_TTL_SECONDS (default 300; the gate takes the largest of it and what the hubs report).
// Exit: 0 done, 3 refused by a gate (each failing gate named), 2 bad usage or environment, 1 other.
import { Command } from 'commander';
import { AUTH_SERVICE } from '@zdm/auth-domain';
import { HttpServiceSchemas } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import mongoose, { type mongo } from 'mongoose';
import { userInfo } from 'node:os';
import { KeyRotation, KeyRotationRefusedError } from './key-rotation';
import { createMongoKeyRotationStore } from './key-rotation.store';

class UsageError extends Error {}

/** `a=http://x,b=http://y` as `{ a: 'http://x', b: 'http://y' }`. */
function parseVerifiers(text: string | undefined): Record<string, string> {
  // Required, so that a forgotten variable cannot make the expand gate pass without asking anyone.
  if (text === undefined || !text.trim()) throw new UsageError('TOKEN_VERIFIERS is required: <service>=<url>,... for every service that verifies tokens, or none');
  if (text.trim() === 'none') return {};
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  return Object.fromEntries(
    entries.map((entry) => {
      const match = /^([\w.-]+)=(https?:\/\/\S+)$/.exec(entry);
      if (!match) throw new UsageError(`TOKEN_VERIFIERS: "${entry}" is not <service>=<http(s) URL>`);
      return [match[1], match[2]];
    }),
  );
}

async function main(argv: string[]): Promise<number> {
  const env = process.env;
  const url = env['MONGO_URL']?.trim();
  if (!url) throw new UsageError('MONGO_URL is required');
  const ttl = Number(env['ACCESS_TOKEN_TTL_SECONDS'] ?? 300);
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError(`ACCESS_TOKEN_TTL_SECONDS must be a positive integer, got ${env['ACCESS_TOKEN_TTL_SECONDS']}`);
  const urls = parseVerifiers(env['TOKEN_VERIFIERS']);
  const connection = await mongoose.createConnection(url, { dbName: env['MONGO_DB']?.trim() || AUTH_SERVICE, serverSelectionTimeoutMS: 5_000 }).asPromise();
  try {
    const db = connection.db as mongo.Db;
    const control = createMongoControlStore(db);
    const rotation = new KeyRotation({
      store: createMongoKeyRotationStore(db),
      heartbeats: control.heartbeats,
      audit: control.audit,
      schemas: new HttpServiceSchemas({ urls }),
      verifiers: Object.keys(urls),
      tokenTtlSeconds: ttl,
    });
    const who = (reason: string | undefined) => ({ actor: env['ZDM_ACTOR'] ?? userInfo().username, reason: reason ?? '' });
    let code = 0;
    const program = new Command('rotate-keys').exitOverride().description('Signing-key rotation of the auth hub (expand/contract, gated on heartbeats)');
    program.command('status').action(async () => {
      process.stdout.write(`${JSON.stringify(await rotation.status(), null, 2)}\n`);
    });
    program
      .command('start <kid>')
      .requiredOption('--reason <why>', 'for the audit log')
      .action(async (kid: string, o: { reason: string }) => {
        const state = await rotation.start(kid, who(o.reason));
        process.stdout.write(`${state.id}: ${state.from} -> ${state.to}, now in ${state.phase} (hubs publish both keys, still sign with ${state.from})\n`);
      });
    program
      .command('advance')
      .requiredOption('--reason <why>', 'for the audit log')
      .action(async (o: { reason: string }) => {
        const state = await rotation.advance(who(o.reason));
        process.stdout.write(`${state.id}: ${state.from} -> ${state.to}, now in ${state.phase}\n`);
      });
    try {
      await program.parseAsync(argv, { from: 'user' });
    } catch (err) {
      if (err instanceof KeyRotationRefusedError) {
        process.stderr.write(`${err.message}\n`);
        code = 3;
      } else if ((err as { code?: string }).code?.startsWith('commander.')) {
        code = (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
      } else throw err;
    }
    return code;
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`rotate-keys: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
