import type { ServiceInstance, Readiness } from './service.fleet';
import { EndpointWatcher } from './endpoint.watcher';
import type { UpstreamServer } from './nginx.load-balancer';

/** A stand-in for a running instance whose readiness the test sets. */
function fake(name: string, port: number) {
  const state: { probe: Readiness; running: boolean } = { probe: { ready: true, shuttingDown: false, detail: '200' }, running: true };
  const instance = {
    name,
    port,
    get running() {
      return state.running;
    },
    readiness: async () => state.probe,
  } as unknown as ServiceInstance;
  return { instance, state };
}

function recorder() {
  const upstreams: number[][] = [];
  return { upstreams, lb: { setUpstream: async (servers: readonly UpstreamServer[]) => void upstreams.push(servers.map((s) => s.port)) } };
}

describe('EndpointWatcher', () => {
  it('serves the activated instances, and takes one out at once when it says it is shutting down', async () => {
    const { upstreams, lb } = recorder();
    const a = fake('a', 1);
    const b = fake('b', 2);
    const w = new EndpointWatcher(lb);
    await w.activate([a.instance, b.instance], 'green');
    expect(upstreams).toEqual([[1, 2]]);
    b.state.probe = { ready: false, shuttingDown: true, detail: '503 shutting_down' };
    await w.poll();
    expect(upstreams).toEqual([[1, 2], [1]]);
    expect(w.events.map((e) => `${e.action} ${e.instance}: ${e.reason}`)).toEqual(['added a: green', 'added b: green', 'removed b: shutting down (readiness 503)']);
    // A shut-down instance does not come back, even if a probe answers.
    b.state.probe = { ready: true, shuttingDown: false, detail: '200' };
    await w.poll();
    expect(upstreams).toHaveLength(2);
  });

  it('takes an instance out after failed probes in a row, and back when it is ready again', async () => {
    const { upstreams, lb } = recorder();
    const a = fake('a', 1);
    const b = fake('b', 2);
    const w = new EndpointWatcher(lb, { failuresToLeave: 2 });
    await w.activate([a.instance, b.instance], 'green');
    b.state.probe = { ready: false, shuttingDown: false, detail: 'timeout' };
    await w.poll();
    expect(upstreams).toHaveLength(1);
    await w.poll();
    expect(upstreams.at(-1)).toEqual([1]);
    b.state.probe = { ready: true, shuttingDown: false, detail: '200' };
    await w.poll();
    expect(upstreams.at(-1)).toEqual([1, 2]);
    expect(w.reloads).toBe(3);
  });

  it('adds a new instance once it is ready, and drops one whose process exited', async () => {
    const { upstreams, lb } = recorder();
    const a = fake('a', 1);
    const c = fake('c', 3);
    const w = new EndpointWatcher(lb);
    await w.activate([a.instance], 'green');
    c.state.probe = { ready: false, shuttingDown: false, detail: 'starting' };
    w.add(c.instance);
    await w.poll();
    expect(upstreams).toEqual([[1]]);
    c.state.probe = { ready: true, shuttingDown: false, detail: '200' };
    await w.poll();
    expect(upstreams.at(-1)).toEqual([1, 3]);
    c.state.running = false;
    await w.poll();
    expect(upstreams.at(-1)).toEqual([1]);
    expect(w.serving().map((i) => i.name)).toEqual(['a']);
  });

  it('never empties the upstream: with no instance ready the last set stays', async () => {
    const { upstreams, lb } = recorder();
    const a = fake('a', 1);
    const w = new EndpointWatcher(lb, { failuresToLeave: 1 });
    await w.activate([a.instance], 'green');
    a.state.probe = { ready: false, shuttingDown: false, detail: 'timeout' };
    await w.poll();
    expect(upstreams).toEqual([[1]]);
  });
});
