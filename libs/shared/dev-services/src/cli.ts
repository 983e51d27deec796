// `npm run services -- up [--mongo] [--redis] [--unleash] [--json] [--write-env FILE]`
// (`--write-env`, not `--env-file`: Node >= 20.6 takes `--env-file` as its own option.)
// Starts (or finds) the backing services, prints how to reach them, stays up until
// SIGINT/SIGTERM, then stops what it started.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ALL_SOURCES, type ServiceSource } from './lib/types';
import { describeServices, serviceEnv, startServices, type ServiceSelection } from './lib/services';

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

interface UpOptions extends ServiceSelection {
  json?: boolean;
  writeEnv?: string;
  sources?: ServiceSource[];
  quiet?: boolean;
}

async function up(opts: UpOptions): Promise<void> {
  const log = opts.quiet ? undefined : (line: string) => process.stderr.write(`[services] ${line}\n`);
  const services = await startServices(opts, { sources: opts.sources, log });
  const env = serviceEnv(services);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ...services, env }, null, 2) + '\n');
  } else {
    process.stdout.write(Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join(''));
  }
  if (opts.writeEnv) writeFileSync(opts.writeEnv, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
  log?.(`up: ${describeServices(services)}`);
  log?.('press Ctrl-C (or send SIGTERM) to stop and clean up');

  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log?.(`${signal}: stopping`);
    await services.stop();
    clearInterval(keepAlive);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
}

const program = new Command('services').description('Backing services (MongoDB, Redis, Unleash) for development and tests');
program
  .command('up')
  .description('start the selected services (default: all), print their environment, stay up until SIGINT/SIGTERM')
  .option('--mongo', 'MongoDB-compatible server')
  .option('--redis', 'Redis')
  .option('--unleash', 'Unleash (admin + client tokens)')
  .option('--json', 'print a JSON object instead of `export` lines')
  .option('--write-env <file>', 'also write KEY=value lines to this file (for `node --env-file` or docker --env-file)')
  .addOption(
    new Option('--sources <list>', `sources to try, in resolution order (${ALL_SOURCES.join(',')})`).argParser((v) => {
      const list = v.split(',').map((s) => s.trim()) as ServiceSource[];
      const bad = list.filter((s) => !ALL_SOURCES.includes(s));
      if (bad.length) throw new Error(`unknown source(s): ${bad.join(', ')}`);
      return list;
    }),
  )
  .option('-q, --quiet', 'no progress messages on stderr')
  .action(async (opts: UpOptions) => {
    try {
      await up(opts);
    } catch (err) {
      process.stderr.write(`[services] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    }
  });

void program.parseAsync(process.argv);
