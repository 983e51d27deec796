// The load generator's process (forked by LoadGenerator): an open-loop mix of every service's
// requests (lib/services/*.traffic.ts) against the load balancer, recording every request and every
// acknowledged write. It talks to its parent over IPC only (see lib/load.protocol.ts).
import { seededRandom } from '@zdm/dev-services';
import http from 'node:http';
import { emptyRequestLog, isFailure, logRequest, pickKind, serviceOfKind } from './lib/load.model';
import { FAILED_EXAMPLES, type FailedRequest, type LoadControlMessage, type LoadStartMessage, type LoadWorkerMessage } from './lib/load.protocol';
import { LoadSessions } from './lib/services/load.sessions';
import { trafficOf } from './lib/services/traffic.registry';
import type { Answer, ServiceTraffic, TrafficContext } from './lib/services/traffic';

function send(base: URL, method: string, path: string, timeoutMs: number, body?: unknown, authorization?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        // A connection per request: see deploy/nginx/services.conf.template on idle keep-alive races.
        agent: false,
        headers: {
          accept: 'application/json',
          connection: 'close',
          ...(authorization ? { authorization } : {}),
          ...(payload
            ? {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(payload),
              }
            : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: Record<string, unknown> | null = null;
          try {
            parsed = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : null;
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', () => resolve({ status: 0, body: null }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: null }));
    req.end(payload);
  });
}

function runLoad(start: LoadStartMessage) {
  const base = new URL(start.baseUrl);
  const rand = seededRandom(start.randomSeed);
  const traffic = new Map(start.services.map((spec) => [spec.service, trafficOf(spec)] as const));
  for (const kind of Object.keys(start.mix)) {
    const [service, own] = [serviceOfKind(kind), kind.slice(kind.indexOf('.') + 1)];
    if (!traffic.get(service)?.kinds.includes(own)) throw new Error(`the request mix names ${kind}, which no service's traffic knows`);
  }
  const log = emptyRequestLog();
  const t0 = performance.now();
  const wallStart = Date.now();
  const now = () => performance.now() - t0;
  let sent = 0;
  let notSent = 0;
  let inFlight = 0;
  let answered = 0;
  let failed = 0;
  let seq = 0;
  let stopping = false;

  // Requests to the auth hub are recorded as `<auth service>.<register|login|refresh>` like any other.
  const auth = start.auth;
  const sessions = auth
    ? new LoadSessions(
        auth,
        async (kind, method, path, body) => {
          const startedAt = now();
          const answer = await send(base, method, path, start.timeoutMs, body);
          logRequest(log, `${auth.service}.${kind}`, startedAt, now() - startedAt, answer.status);
          return answer;
        },
        now,
      )
    : undefined;
  // Reads go without a token (they are open); every write carries the token of one of the load's users.
  const sendAs = (method: string, path: string, body?: unknown): Promise<Answer> =>
    sessions && method !== 'GET'
      ? sessions.authorized(`${method} ${path}`, (authorization) => send(base, method, path, start.timeoutMs, body, authorization))
      : send(base, method, path, start.timeoutMs, body);

  const failedExamples: FailedRequest[] = [];
  const contextOf = (service: string): TrafficContext => ({
    send: async (method, path, body) => {
      const atMs = now();
      const answer = await sendAs(method, path, body);
      if (isFailure(answer.status) && failedExamples.length < FAILED_EXAMPLES) {
        const text = answer.body ? JSON.stringify(answer.body) : 'no answer';
        failedExamples.push({ atMs: Math.round(atMs), method, path, status: answer.status, answer: text.slice(0, 300) });
      }
      return answer;
    },
    rand,
    seq: () => seq++,
    now,
    record: (kind, startedAt, status) => {
      logRequest(log, `${service}.${kind}`, startedAt, now() - startedAt, status);
      answered++;
      if (isFailure(status)) failed++;
    },
  });
  const contexts = new Map([...traffic.keys()].map((service) => [service, contextOf(service)]));

  const issue = async () => {
    const kind = pickKind(start.mix, rand());
    const service = serviceOfKind(kind);
    inFlight++;
    sent++;
    try {
      await (traffic.get(service) as ServiceTraffic).issue(kind.slice(service.length + 1), contexts.get(service) as TrafficContext);
    } finally {
      inFlight--;
    }
  };
  const ticker = setInterval(() => {
    if (stopping) return;
    const due = Math.floor((now() * start.rps) / 1000) - sent - notSent;
    for (let i = 0; i < due; i++) {
      if (inFlight >= start.maxInFlight) notSent++;
      else void issue();
    }
  }, 5);
  const reporter = setInterval(
    () =>
      post({
        type: 'progress',
        elapsedMs: Math.round(now()),
        sent,
        answered,
        failed,
        inFlight,
      }),
    1_000,
  );

  return async () => {
    stopping = true;
    clearInterval(ticker);
    const deadline = performance.now() + start.timeoutMs + 5_000;
    while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(reporter);
    await new Promise<void>((resolve) =>
      post(
        {
          type: 'result',
          startedAt: wallStart,
          log,
          services: Object.fromEntries([...traffic].map(([service, t]) => [service, t.result()])),
          notSent,
          abandoned: inFlight,
          failedExamples,
          auth: sessions?.stats(),
        },
        resolve,
      ),
    );
  };
}

function post(message: LoadWorkerMessage, then?: () => void) {
  process.send?.(message, undefined, {}, () => then?.());
}

let stop: (() => Promise<void>) | undefined;
process.on('message', (message: LoadControlMessage) => {
  if (message.type === 'start' && !stop) stop = runLoad(message);
  else if (message.type === 'stop') void (stop?.() ?? Promise.resolve()).then(() => process.disconnect?.());
});
// The parent went away (even SIGKILLed): stop at once.
process.on('disconnect', () => process.exit(0));
