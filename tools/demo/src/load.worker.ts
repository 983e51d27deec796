// The load generator's process (forked by LoadGenerator): an open-loop mix of reads, list pages,
// creates and updates against the load balancer, recording every request and every acknowledged
// write. It talks to its parent over IPC only (see lib/load.protocol.ts).
import { joinFullName } from '@zdm/customers-domain';
import { seededRandom } from '@zdm/dev-services';
import http from 'node:http';
import { AckedWrites, CustomerName, REQUEST_KINDS, RequestKind, emptyRequestLog, isFailure, nameFor, pickKind } from './lib/load.model';
import type { LoadControlMessage, LoadStartMessage, LoadWorkerMessage, ReadMismatch } from './lib/load.protocol';

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

function send(base: URL, method: string, path: string, timeoutMs: number, body?: unknown): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        // A connection per request: see deploy/nginx/customers.conf.template on idle keep-alive races.
        agent: false,
        headers: {
          accept: 'application/json',
          connection: 'close',
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

const nameOf = (body: Record<string, unknown> | null): CustomerName | undefined =>
  body && typeof body['firstName'] === 'string' && typeof body['lastName'] === 'string'
    ? { firstName: body['firstName'], lastName: body['lastName'] }
    : undefined;

/** Fields to PATCH: both, or only one where the result still splits back (see `nameFor`). */
function patchOf(name: CustomerName, r: number): Partial<CustomerName> {
  if (r < 0.25 && !name.firstName.includes(' ')) return { firstName: name.firstName };
  if (r < 0.5 && name.lastName) return { lastName: name.lastName };
  return name;
}

function runLoad(start: LoadStartMessage) {
  const base = new URL(start.baseUrl);
  const rand = seededRandom(start.randomSeed);
  const writes = new AckedWrites();
  for (const [id, firstName, lastName] of start.seeds) writes.seed(id, { firstName, lastName });
  const log = emptyRequestLog();
  const reads = { compared: 0, mismatches: 0, examples: [] as ReadMismatch[] };
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

  const record = (kind: RequestKind, startedAt: number, status: number) => {
    log.startMs.push(Math.round(startedAt * 10) / 10);
    log.latencyMs.push(Math.round((now() - startedAt) * 100) / 100);
    log.status.push(status);
    log.kind.push(REQUEST_KINDS.indexOf(kind));
    answered++;
    if (isFailure(status)) failed++;
  };

  const compareRead = (id: string, epoch: number, expected: CustomerName | undefined, body: Record<string, unknown> | null, atMs: number) => {
    // Only when no write to this customer started meanwhile and none is in flight now.
    if (!expected || writes.epoch(id) !== epoch || !writes.expected(id)) return;
    reads.compared++;
    const got = nameOf(body);
    const fullName = body?.['fullName'];
    const same =
      got && got.firstName === expected.firstName && got.lastName === expected.lastName && (fullName === undefined || fullName === joinFullName(expected));
    if (same) return;
    reads.mismatches++;
    if (reads.examples.length < 20)
      reads.examples.push({
        id,
        atMs: Math.round(atMs),
        expected,
        got: body ?? {},
      });
  };

  const issue = async () => {
    let kind = pickKind(start.mix, rand());
    const startedAt = now();
    let target = writes.pick(rand());
    if (!target) kind = 'create';
    // One write at a time per customer: an update picks one with none in flight (else it reads).
    for (let tries = 0; kind === 'update' && !writes.begin(target as string); tries++) {
      if (tries >= 8) kind = 'read';
      else target = writes.pick(rand());
    }
    inFlight++;
    sent++;
    try {
      switch (kind) {
        case 'read': {
          const id = target as string;
          const epoch = writes.epoch(id);
          const expected = writes.expected(id);
          const answer = await send(base, 'GET', `/customers/${id}`, start.timeoutMs);
          record(kind, startedAt, answer.status);
          if (answer.status === 200) compareRead(id, epoch, expected, answer.body, startedAt);
          break;
        }
        case 'list': {
          const answer = await send(base, 'GET', `/customers?limit=20&after=${target}`, start.timeoutMs);
          record(kind, startedAt, answer.status);
          break;
        }
        case 'create': {
          const name = nameFor(seq++, rand());
          const answer = await send(base, 'POST', '/customers', start.timeoutMs, name);
          record(kind, startedAt, answer.status);
          const created = nameOf(answer.body);
          if (answer.status === 201 && typeof answer.body?.['id'] === 'string' && created) writes.created(answer.body['id'], created);
          break;
        }
        case 'update': {
          const id = target as string;
          const answer = await send(base, 'PATCH', `/customers/${id}`, start.timeoutMs, patchOf(nameFor(seq++, rand()), rand()));
          record(kind, startedAt, answer.status);
          const updated = nameOf(answer.body);
          if (answer.status === 200 && updated) writes.end(id, 'acked', updated);
          else writes.end(id, answer.status === 0 || answer.status >= 500 ? 'unknown' : 'rejected');
          break;
        }
      }
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
          acked: writes.entries().map(([id, n]) => [id, n.firstName, n.lastName]),
          writes: writes.counts(),
          reads,
          notSent,
          abandoned: inFlight,
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
