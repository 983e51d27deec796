import { LoadSessions, type AuthSend } from './load.sessions';
import type { Answer } from './traffic';

/** A fake auth hub: tokens `a1`, `a2`, ... with refresh tokens `r1`, `r2`, ...; a refresh token works once. */
function fakeHub(lifetimeSeconds = 30) {
  let issued = 0;
  const valid = new Set<string>();
  const calls: string[] = [];
  const pair = (): Answer => {
    issued++;
    valid.add(`r${issued}`);
    return { status: 201, body: { accessToken: `a${issued}`, refreshToken: `r${issued}`, expiresIn: lifetimeSeconds } };
  };
  const send: AuthSend = async (kind, _method, path, body) => {
    calls.push(`${kind} ${path}`);
    if (kind === 'register') return { status: 201, body: { id: 'u' } };
    if (kind === 'login') return pair();
    const token = (body as { refreshToken: string }).refreshToken;
    if (!valid.delete(token)) return { status: 401, body: { message: 'reused' } };
    return { ...pair(), status: 200 };
  };
  return { send, calls };
}

describe('LoadSessions', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 0));

  it('registers and logs in once, then sends the same token until 40 % of its lifetime is left, then refreshes it', async () => {
    const hub = fakeHub();
    const sessions = new LoadSessions({ service: 'auth-hub', path: '/auth', users: 1, runId: 't' }, hub.send, now);
    const sent: string[] = [];
    const write = (authorization: string) => (sent.push(authorization), Promise.resolve({ status: 201, body: {} }));
    await sessions.authorized('POST /x', write);
    clock = 16_000;
    await sessions.authorized('POST /x', write);
    clock = 18_500;
    await sessions.authorized('POST /x', write);
    expect(sent).toEqual(['Bearer a1', 'Bearer a1', 'Bearer a2']);
    expect(hub.calls).toEqual(['register /auth/users', 'login /auth/sessions', 'refresh /auth/sessions/refresh']);
    expect(sessions.stats()).toMatchObject({ registered: 1, logins: 1, refreshes: 1, unauthorizedWithValidToken: 0 });
  });

  it('refreshes once for requests that find the token due together (a refresh token used twice would revoke the session)', async () => {
    const hub = fakeHub();
    const sessions = new LoadSessions({ service: 'auth-hub', path: '/auth', users: 1, runId: 't' }, hub.send, now);
    await sessions.authorized('POST /x', () => Promise.resolve({ status: 201, body: {} }));
    clock = 25_000;
    const sent: string[] = [];
    await Promise.all([1, 2, 3].map(() => sessions.authorized('POST /x', (a) => (sent.push(a), Promise.resolve({ status: 200, body: {} })))));
    expect(sent).toEqual(['Bearer a2', 'Bearer a2', 'Bearer a2']);
    expect(sessions.stats()).toMatchObject({ refreshes: 1, refreshesRefused: 0 });
  });

  it('counts a 401 to a token before its expiry, refreshes and sends the request again with the new token', async () => {
    const hub = fakeHub();
    const sessions = new LoadSessions({ service: 'auth-hub', path: '/auth', users: 1, runId: 't' }, hub.send, now);
    const seen: string[] = [];
    const answer = await sessions.authorized('PATCH /customers/1', (a) => {
      seen.push(a);
      return Promise.resolve(a === 'Bearer a1' ? { status: 401, body: { message: 'the token signature is not valid' } } : { status: 200, body: {} });
    });
    expect(answer.status).toBe(200);
    expect(seen).toEqual(['Bearer a1', 'Bearer a2']);
    expect(sessions.stats()).toMatchObject({ unauthorizedWithValidToken: 1, retriedAfterRefresh: 1, refreshes: 1 });
    expect(sessions.stats().examples).toEqual([{ atMs: 0, request: 'PATCH /customers/1', secondsLeft: 29, message: 'the token signature is not valid' }]);
  });

  it('logs in again when a refresh is refused, and answers status 0 (not sent) when no token can be had', async () => {
    const hub = fakeHub();
    const refusing: AuthSend = (kind, ...rest) => (kind === 'refresh' ? Promise.resolve({ status: 401, body: null }) : hub.send(kind, ...rest));
    const sessions = new LoadSessions({ service: 'auth-hub', path: '/auth', users: 1, runId: 't' }, refusing, now);
    const ok = () => Promise.resolve({ status: 201, body: {} });
    await sessions.authorized('POST /x', ok);
    clock = 20_000;
    await sessions.authorized('POST /x', ok);
    expect(sessions.stats()).toMatchObject({ logins: 2, refreshes: 0, refreshesRefused: 1, withoutToken: 0 });

    const down = new LoadSessions({ service: 'auth-hub', path: '/auth', users: 1, runId: 't' }, () => Promise.resolve({ status: 0, body: null }), now);
    let called = false;
    expect(await down.authorized('POST /x', () => ((called = true), ok()))).toEqual({ status: 0, body: null });
    expect(called).toBe(false);
    expect(down.stats().withoutToken).toBe(1);
  });
});
