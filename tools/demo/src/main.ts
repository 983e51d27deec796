// `npm run demo [-- --docs N --rps N --port N --instances N --out DIR --publish --keep-logs]`
// A blue-green migration of every service of the sample under live load, with faults injected, ending
// in reports/demo/last-run/latest.{json,md,svg} (ignored by git); `--publish` also replaces the
// committed reference report, reports/demo/latest.{json,md,svg}. Exit 0 when the report proves zero downtime, 1 when it
// does not, 2 on bad usage, 3 when the run itself broke, 130 on Ctrl-C. See docs/tutorials/01-split-a-field.md.
import { Command, Option } from 'commander';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { whole } from './lib/cli-args';
import { DemoRun } from './lib/demo.story';
import { failedRequestLines, serviceLines, verdictLine } from './lib/report';
import { authHubService } from './lib/services/auth-hub.service';
import { customersService } from './lib/services/customers.service';
import { ordersService } from './lib/services/orders.service';
import { ROOT } from './lib/services/demo.service';

/** The committed reference report; only `--publish` writes it. */
const PUBLISHED_DIR = path.join(ROOT, 'reports', 'demo');

const started = performance.now();
const log = (line: string) => process.stderr.write(`[demo ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

const program = new Command('demo')
  .description('Blue-green migration of every service under live load, with injected faults; writes reports/demo/last-run/latest.{json,md,svg}')
  .addOption(new Option('--docs <n>', 'customers seeded at v1').argParser(whole(10)).default(5_000))
  .addOption(new Option('--orders <n>', 'orders seeded at v1 (one in 200 dirty: quarantined by orders.money, then fixed)').argParser(whole(10)).default(2_000))
  .addOption(new Option('--rps <n>', 'requests per second of the load, every service together (reads, list pages, creates, updates)').argParser(whole(1, 5_000)).default(40))
  .addOption(new Option('--port <n>', 'port of the load balancer on 127.0.0.1').env('DEMO_PORT').argParser(whole(1, 65_535)).default(8080))
  .addOption(new Option('--instances <n>', 'instances of blue and of green, per service').argParser(whole(2, 8)).default(2))
  .addOption(new Option('--unleash-outage <seconds>', 'how long Unleash is unreachable during dual-write').argParser(whole(1, 600)).default(10))
  .addOption(new Option('--store-stall <ms>', 'how long the store is frozen (SIGSTOP, then SIGCONT) mid-backfill').argParser(whole(100, 60_000)).default(2_000))
  .addOption(new Option('--walk-timeout <seconds>', 'longest time for walking the migrations; past it the run stops them and fails').argParser(whole(30)).default(900))
  .option('--out <dir>', 'where the report of this run goes (ignored by git)', path.join(ROOT, 'reports', 'demo', 'last-run'))
  .option('--publish', `also replace the committed reference report (${path.relative(ROOT, PUBLISHED_DIR)}/latest.*) when the run passes`)
  .option('--keep-logs', 'keep the temp directory with every process log, even when the run passes')
  .showHelpAfterError();

interface Cli {
  docs: number;
  orders: number;
  rps: number;
  port: number;
  instances: number;
  unleashOutage: number;
  storeStall: number;
  walkTimeout: number;
  out: string;
  publish?: boolean;
  keepLogs?: boolean;
}

async function main(): Promise<number> {
  try {
    program.exitOverride().parse(process.argv);
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const o = program.opts<Cli>();
  const demo = new DemoRun({
    // The auth hub first: the others' writes need its tokens from the start of the load.
    services: [authHubService, customersService, ordersService],
    docs: { customers: o.docs, orders: o.orders },
    rps: o.rps,
    host: '127.0.0.1',
    port: o.port,
    instances: o.instances,
    outDir: path.resolve(o.out),
    keepLogs: !!o.keepLogs,
    unleashOutageMs: o.unleashOutage * 1000,
    storeStallMs: o.storeStall,
    leaseTtlMs: 20_000,
    walkTimeoutMs: o.walkTimeout * 1000,
    log,
  });
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      log(`${signal}: stopping every process this run started (again to quit at once)`);
      void demo.cleanup().finally(() => {
        log(`logs kept in ${demo.workDir}`);
        process.exit(130);
      });
    });
  }
  try {
    const report = await demo.run();
    await demo.cleanup();
    const files = demo.reportFiles;
    log(`report: ${files.json}, ${files.markdown}, ${files.chart}`);
    if (o.publish && report.ok) {
      for (const file of Object.values(files)) copyFileSync(file, path.join(PUBLISHED_DIR, path.basename(file)));
      log(`published as the reference report: ${path.relative(ROOT, PUBLISHED_DIR)}/latest.{json,md,svg}`);
    } else if (o.publish) {
      log('not published: the run failed, the reference report stays as it was');
    }
    log(verdictLine(report));
    for (const line of serviceLines(report)) log(`  ${line}`);
    for (const failure of report.failures) log(`  - ${failure}`);
    for (const line of failedRequestLines(report)) log(`  failed request ${line}`);
    if (!report.ok) log(`logs kept in ${demo.workDir}`);
    demo.removeWorkDir(!report.ok);
    return report.ok ? 0 : 1;
  } catch (err) {
    log(`the demo broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await demo.cleanup();
    log(`logs kept in ${demo.workDir}`);
    return 3;
  }
}

void main().then((code) => {
  process.exitCode = code;
  // Sockets of closed clients must not keep the process alive.
  setTimeout(() => process.exit(code), 1_000).unref();
});
