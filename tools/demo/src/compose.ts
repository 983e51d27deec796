// `npm run demo:compose` runs this through tools/containers/story.sh, which brings the compose stack
// up first and takes it down after. On its own, against a stack that is up with blue behind nginx:
//   node tools/scripts/run-ts.mjs tools/demo/src/compose.ts --lb-url http://127.0.0.1:18083 \
//     --mongo-url 'mongodb://127.0.0.1:18084/?directConnection=true' --files deploy/compose/compose.yml,...
// Writes reports/demo/compose/latest.{json,md,svg}. Exit 0 when the report proves zero downtime,
// 1 when it does not, 2 on bad usage, 3 when the run itself broke.
import { Command, Option } from 'commander';
import path from 'node:path';
import { ComposeCli } from './lib/compose.cli';
import { ComposeStory } from './lib/compose.story';
import { authHubService } from './lib/services/auth-hub.service';
import { customersService } from './lib/services/customers.service';
import { ordersService } from './lib/services/orders.service';
import { whole } from './lib/cli-args';
import { failedRequestLines, serviceLines, verdictLine } from './lib/report';
import { ROOT } from './lib/services/demo.service';

const started = performance.now();
const log = (line: string) => process.stderr.write(`[compose ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

const program = new Command('demo:compose')
  .description('The demo story told to a compose stack that is up: load through its nginx, switch.sh, docker compose run --rm zdm, faults to containers')
  .requiredOption('--lb-url <url>', 'the stack load balancer as published on the host')
  .requiredOption('--mongo-url <url>', "the stack's MongoDB as published on the host (seed and census)")
  .requiredOption('--files <list>', 'the compose files, comma-separated')
  .option('--project <name>', 'compose project name', 'zdm')
  .addOption(new Option('--docs <n>', 'customers seeded at v1 (and two orders for every five customers)').argParser(whole(10)).default(400))
  .addOption(new Option('--rps <n>', 'requests per second of the load').argParser(whole(1, 5_000)).default(3))
  .addOption(new Option('--instances <n>', 'containers of blue and of green (INSTANCES of the stack)').argParser(whole(1, 8)).default(2))
  .addOption(new Option('--unleash-outage <seconds>', 'how long Unleash is stopped during dual-write').argParser(whole(1, 600)).default(10))
  .addOption(new Option('--store-stall <ms>', 'how long the store container is frozen mid-backfill').argParser(whole(100, 60_000)).default(2_000))
  .addOption(new Option('--walk-timeout <seconds>', 'longest time for walking the migrations').argParser(whole(30)).default(600))
  .option('--out <dir>', 'where the report goes (ignored by git)', path.join(ROOT, 'reports', 'demo', 'compose'))
  .showHelpAfterError();

interface Cli {
  lbUrl: string;
  mongoUrl: string;
  files: string;
  project: string;
  docs: number;
  rps: number;
  instances: number;
  unleashOutage: number;
  storeStall: number;
  walkTimeout: number;
  out: string;
}

async function main(): Promise<number> {
  try {
    program.exitOverride().parse(process.argv);
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const o = program.opts<Cli>();
  const files = o.files.split(',').map((f) => path.resolve(ROOT, f));
  const compose = new ComposeCli({ files, projectDirectory: path.dirname(files[0]), project: o.project, env: {} });
  const story = new ComposeStory({
    compose,
    lbUrl: o.lbUrl,
    mongoUrl: o.mongoUrl,
    docs: o.docs,
    rps: o.rps,
    instances: o.instances,
    unleashOutageMs: o.unleashOutage * 1000,
    storeStallMs: o.storeStall,
    leaseTtlMs: 10_000,
    walkTimeoutMs: o.walkTimeout * 1000,
    outDir: path.resolve(o.out),
    // customers leads (its migrations carry the faults); the auth hub is deployed and switched with the others.
    services: [customersService, ordersService, authHubService],
    log,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void story.cleanup().finally(() => process.exit(130)));
  try {
    const report = await story.run();
    await story.cleanup();
    const files = story.reportFiles;
    log(`report: ${files.json}, ${files.markdown}, ${files.chart}`);
    log(verdictLine(report));
    for (const line of serviceLines(report)) log(`  ${line}`);
    for (const failure of report.failures) log(`  - ${failure}`);
    for (const line of failedRequestLines(report)) log(`  failed request ${line}`);
    if (report.ok) story.removeWorkDir();
    else log(`logs of the zdm commands and the load generator: ${story.workDir}`);
    return report.ok ? 0 : 1;
  } catch (err) {
    log(`the story broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await story.cleanup();
    log(`logs kept in ${story.workDir}`);
    return 3;
  }
}

void main().then((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1_000).unref();
});
