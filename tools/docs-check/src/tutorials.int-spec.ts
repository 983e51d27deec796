// Runs every shell block of docs/tutorials/*.md in order, in one bash, as a reader would, so the
// tutorials cannot rot. Each tutorial starts its own backing services (the MONGO_URL, REDIS_URL and
// UNLEASH_* of the test run are removed from its environment) and cleans up after itself; whatever
// a failed run leaves behind is killed with its process group.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { blockDone, scriptOf, shellBlocks } from './lib/shell-blocks';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIR = path.join(ROOT, 'docs', 'tutorials');
const tutorials = readdirSync(DIR).filter((f) => f.endsWith('.md')).sort();

jest.setTimeout(15 * 60_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a reader who has only run the quick start: no service URLs of the test run. */
function readerEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(MONGO_|REDIS_|UNLEASH_|ZDM_.*_DESCRIPTION$|JEST_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, DEMO_PORT: String(port), PATH: [path.join(ROOT, 'node_modules', '.bin'), process.env['PATH']].join(path.delimiter) };
}

describe.each(tutorials)('docs/tutorials/%s', (file) => {
  const blocks = shellBlocks(readFileSync(path.join(DIR, file), 'utf8'));

  it('has shell blocks to run', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it('runs every shell block, in order, in one shell, to the end', async () => {
    const child = spawn('bash', ['-c', scriptOf(blocks)], { cwd: ROOT, env: readerEnv(await freePort()), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // A failed run may leave servers behind: they are in the script's process group.
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // nothing left
    }
    const done = blocks.filter((b) => output.includes(blockDone(b.index))).length;
    const failed = blocks[done];
    const where = failed ? `block ${failed.index} (line ${failed.line}, "${failed.heading}"):\n${failed.code}\n` : '';
    expect({ code, stoppedAt: where, tail: code === 0 ? '' : output.split('\n').slice(-60).join('\n') }).toEqual({ code: 0, stoppedAt: '', tail: '' });
    expect(done).toBe(blocks.length);
  });
});
