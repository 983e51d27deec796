import { ExitCode } from './lib/exit-codes';
import { runCli } from './cli';

const stop = new AbortController();
let signals = 0;
const onSignal = (name: NodeJS.Signals) => {
  if (++signals > 1) process.exit(ExitCode.stopped);
  process.stderr.write(`zdm: ${name}: stopping after the current batch, checkpoint kept (send again to exit at once)\n`);
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: stop.signal }).then((code) => {
  process.exitCode = code;
  // A config whose close() leaves a socket open must not keep a script waiting forever.
  setTimeout(() => process.exit(code), 2000).unref();
});
