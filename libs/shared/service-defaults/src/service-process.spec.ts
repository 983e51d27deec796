import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet, startFixtureProcess } from './__fixtures__/fixture.process';

// Starting a TypeScript service in a child process takes a few seconds.
jest.setTimeout(60_000);

describe('a service process', () => {
  it('exits non-zero naming every bad variable when its config is invalid', async () => {
    const service = startFixtureProcess({ FIXTURE_GREETING: undefined, PORT: 'eighty', LOG_LEVEL: 'loud' });
    const { code } = await service.exited;
    expect(code).toBe(1);
    const output = service.stderr();
    expect(output).toContain('[fixture] failed to start: Invalid configuration (3 problems)');
    expect(output).toContain('- FIXTURE_GREETING: is required');
    expect(output).toMatch(/- PORT: must be a whole number/);
    expect(output).toMatch(/- LOG_LEVEL: Invalid option/);
    expect(service.stdout()).not.toContain('Listening');
  });

  it('on SIGTERM turns unready first, drains, finishes the in-flight request and exits 0', async () => {
    const drainMs = 800;
    const slowMs = 2_500;
    const service = startFixtureProcess({
      FIXTURE_GREETING: 'hello',
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_MS: String(drainMs),
      SHUTDOWN_TIMEOUT_MS: '20000',
    });
    const base = `http://127.0.0.1:${await service.listening}`;
    expect((await httpGet(`${base}/health/ready`)).status).toBe(200);

    // An idle keep-alive connection, and a busy one carrying the slow request.
    const idleAgent = new http.Agent({ keepAlive: true });
    const busyAgent = new http.Agent({ keepAlive: true });
    expect((await httpGet(`${base}/health/live`, idleAgent)).status).toBe(200);
    const slow = httpGet(`${base}/widgets/slow?ms=${slowMs}`, busyAgent).then((res) => ({ res, at: Date.now() }));
    await sleep(300);

    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    let unreadyAt = 0;
    while (!unreadyAt) {
      const res = await httpGet(`${base}/health/ready`);
      if (res.status === 503) unreadyAt = Date.now();
      else if (Date.now() - signalledAt > 2_000) throw new Error('readiness never turned 503');
    }
    // During the drain new requests are still served, asking the client to reconnect elsewhere.
    const duringDrain = await httpGet(`${base}/widgets/1`);
    expect(duringDrain.status).toBe(200);
    expect(duringDrain.headers.connection).toBe('close');

    // After the drain the server no longer accepts connections, though the slow request is still running.
    await sleep(signalledAt + drainMs + 300 - Date.now());
    await expect(httpGet(`${base}/health/live`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const { res: slowRes, at: slowDoneAt } = await slow;
    const { code } = await service.exited;
    const exitedAt = Date.now();
    idleAgent.destroy();
    busyAgent.destroy();

    expect(slowRes.status).toBe(200);
    expect(JSON.parse(slowRes.body)).toEqual({ sleptMs: slowMs });
    expect(slowRes.headers.connection).toBe('close');
    expect(code).toBe(0);
    expect(unreadyAt - signalledAt).toBeLessThan(500);
    expect(unreadyAt).toBeLessThan(slowDoneAt);
    // Neither the idle nor the finished keep-alive connection holds the process (keepAliveTimeout is 5 s).
    expect(exitedAt - slowDoneAt).toBeLessThan(1_500);

    const phases = service
      .logs()
      .map((entry) => String(entry['msg']))
      .filter((msg) => /^(Shutdown|Drain|HTTP server closed)/.test(msg));
    expect(phases.map((msg) => msg.split(':')[0])).toEqual([
      'Shutdown started',
      'Drain over',
      'HTTP server closed',
      'Shutdown complete',
    ]);
    const requestLog = service
      .logs()
      .find((entry) => (entry['req'] as { url?: string } | undefined)?.url?.startsWith('/widgets/slow'));
    expect(requestLog).toMatchObject({ level: 'info', service: 'fixture', res: { statusCode: 200 } });

    console.info(
      `shutdown timings: readiness 503 after ${unreadyAt - signalledAt} ms, in-flight request done after ` +
        `${slowDoneAt - signalledAt} ms, exit after ${exitedAt - signalledAt} ms (drain ${drainMs} ms)`,
    );
  });
});
