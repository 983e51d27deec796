import { existsSync } from 'node:fs';
import { freePort } from './net';
import { findExecutable, launchSupervised, modernNode, tcpReady } from './local-process';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('launchSupervised', () => {
  it('starts a server, waits until ready, and stop() removes process and temp dir', async () => {
    const port = await freePort();
    const proc = await launchSupervised({
      name: 'unit-server',
      command: process.execPath,
      args: () => ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1')`],
      ready: tcpReady(port),
      timeoutMs: 10_000,
    });
    expect(alive(proc.pid)).toBe(true);
    expect(existsSync(proc.dir)).toBe(true);
    await proc.stop();
    await proc.stop(); // idempotent
    expect(alive(proc.pid)).toBe(false);
    expect(existsSync(proc.dir)).toBe(false);
  });

  it('fails with the log tail when the server exits early, and cleans up', async () => {
    const err = await launchSupervised({
      name: 'unit-crash',
      command: process.execPath,
      args: () => ['-e', `console.error('cannot bind: address in use'); process.exit(3)`],
      ready: async () => false,
      timeoutMs: 10_000,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/unit-crash .* exited \(code 3\)/);
    expect((err as Error).message).toContain('cannot bind: address in use');
  });

  it('fails when a command does not exist', async () => {
    await expect(
      launchSupervised({ name: 'unit-missing', command: '/nonexistent/bin', args: () => [], ready: async () => false, timeoutMs: 5000 }),
    ).rejects.toThrow(/ENOENT/);
  });
});

describe('binary lookup', () => {
  it('honours an explicit variable and reports missing binaries as undefined', () => {
    process.env.ZDM_UNIT_BIN = process.execPath;
    expect(findExecutable('whatever', 'ZDM_UNIT_BIN')).toBe(process.execPath);
    process.env.ZDM_UNIT_BIN = '/nonexistent/bin';
    expect(findExecutable('whatever', 'ZDM_UNIT_BIN')).toBeUndefined();
    delete process.env.ZDM_UNIT_BIN;
    expect(findExecutable('zdm-no-such-binary')).toBeUndefined();
  });

  it('finds a Node >= 22 for unleash-server', () => {
    expect(modernNode()).toBeDefined();
  });
});
