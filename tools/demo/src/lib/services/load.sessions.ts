import type { Answer } from './traffic';

/** Where the load logs in, and as how many users. */
export interface AuthLoadSpec {
  /** The auth hub's service name: its requests are recorded as `<service>.register`, `.login`, `.refresh`. */
  service: string;
  /** Path prefix of the auth hub behind the load balancer, e.g. `/auth` (`/auth/users`, `/auth/sessions`). */
  path: string;
  /** Users the load registers and keeps logged in; each write is sent with the token of one of them. */
  users: number;
  /** Makes the users' e-mail addresses unique to the run (`load-<runId>-<n>@demo.example`). */
  runId: string;
  /**
   * Refresh an access token once less than this share of its lifetime is left (a client that
   * waits for the 401 has already failed a request). Default 0.4.
   */
  refreshAtRemaining?: number;
}

/** One 401 answered to an access token the client held as valid (not past its expiry). */
export interface UnauthorizedExample {
  atMs: number;
  request: string;
  /** Seconds the token had left, by the expiry the auth hub announced with it. */
  secondsLeft: number;
  message: string;
}

/** What the load's sessions did, for the report. */
export interface AuthLoadResult {
  users: number;
  registered: number;
  logins: number;
  refreshes: number;
  /** Refreshes the auth hub refused (the client then logged in again). */
  refreshesRefused: number;
  /** Writes that got a 401 although their token was not past its expiry: the number that must stay 0. */
  unauthorizedWithValidToken: number;
  /** Writes sent again with a refreshed token after such a 401. */
  retriedAfterRefresh: number;
  /** Writes that could not be sent because no token could be had (the auth hub refused or did not answer). */
  withoutToken: number;
  examples: UnauthorizedExample[];
}

/** How the sessions reach the auth hub: a JSON request through the load balancer, recorded in the request log as `kind`. */
export type AuthSend = (kind: 'register' | 'login' | 'refresh', method: string, path: string, body: unknown) => Promise<Answer>;

interface UserSession {
  email: string;
  registered: boolean;
  access?: string;
  /** Local clock (performance.now) at which the access token expires, by its `expiresIn`. */
  expiresAt: number;
  lifetimeMs: number;
  refresh?: string;
  /** The one login or refresh under way: a refresh token is used once, never by two requests at a time. */
  renewing?: Promise<void>;
}

/** A password that passes the auth hub's policy (10-128 characters, not the address). */
const PASSWORD = 'load generator passphrase';

/**
 * The users of the load, kept logged in as a real client keeps its session: register once, log in,
 * refresh the access token before it expires (one refresh at a time per user, since a refresh token
 * used twice revokes the session), log in again when a refresh is refused, and on a 401 refresh once
 * and send the request again. Every 401 to a token that was not past its expiry is counted.
 */
export class LoadSessions {
  private readonly users: UserSession[];
  private next = 0;
  private readonly result: AuthLoadResult;

  constructor(
    private readonly spec: AuthLoadSpec,
    private readonly send: AuthSend,
    private readonly now: () => number,
  ) {
    this.users = Array.from({ length: spec.users }, (_, i) => ({ email: `load-${spec.runId}-${i}@demo.example`, registered: false, expiresAt: 0, lifetimeMs: 0 }));
    this.result = { users: spec.users, registered: 0, logins: 0, refreshes: 0, refreshesRefused: 0, unauthorizedWithValidToken: 0, retriedAfterRefresh: 0, withoutToken: 0, examples: [] };
  }

  /**
   * Sends a request that needs an access token (`call` gets `Authorization`'s value), with the token
   * of the next user in turn; on a 401 it refreshes that user's token once and sends it again.
   * Without any token to send, it answers status 0 (not sent) and counts it.
   */
  async authorized(request: string, call: (authorization: string) => Promise<Answer>): Promise<Answer> {
    const user = this.users[this.next++ % this.users.length];
    const token = await this.tokenOf(user);
    if (!token) return this.notSent();
    const sentAt = this.now();
    const answer = await call(`Bearer ${token}`);
    if (answer.status !== 401) return answer;
    const secondsLeft = Math.round((user.expiresAt - sentAt) / 100) / 10;
    if (secondsLeft > 0) {
      this.result.unauthorizedWithValidToken++;
      if (this.result.examples.length < 20) this.result.examples.push({ atMs: Math.round(sentAt), request, secondsLeft, message: String(answer.body?.['message'] ?? '') });
    }
    // Refresh once (unless another request already did), then send it again.
    if (user.access === token) await this.renew(user, true);
    const fresh = user.access;
    if (!fresh) return this.notSent();
    this.result.retriedAfterRefresh++;
    return call(`Bearer ${fresh}`);
  }

  /** What the sessions did so far. */
  stats(): AuthLoadResult {
    return { ...this.result, examples: [...this.result.examples] };
  }

  private notSent(): Answer {
    this.result.withoutToken++;
    return { status: 0, body: null };
  }

  /** A token that is not due for refresh, renewing it first when it is. */
  private async tokenOf(user: UserSession): Promise<string | undefined> {
    const refreshAt = user.expiresAt - user.lifetimeMs * (this.spec.refreshAtRemaining ?? 0.4);
    if (!user.access || this.now() >= refreshAt) await this.renew(user, false);
    return user.access;
  }

  /** One login or refresh per user at a time; callers that come while it runs wait for it. */
  private renew(user: UserSession, after401: boolean): Promise<void> {
    const token = user.access;
    user.renewing ??= (async () => {
      try {
        // A caller that waited for another renewal finds a fresh token: nothing more to do.
        if (user.access !== token || (user.access && !after401 && this.now() < user.expiresAt - user.lifetimeMs * (this.spec.refreshAtRemaining ?? 0.4))) return;
        if (user.refresh && (await this.refresh(user))) return;
        await this.login(user);
      } finally {
        user.renewing = undefined;
      }
    })();
    return user.renewing;
  }

  private async refresh(user: UserSession): Promise<boolean> {
    const refreshToken = user.refresh;
    user.refresh = undefined;
    const sentAt = this.now();
    const answer = await this.send('refresh', 'POST', `${this.spec.path}/sessions/refresh`, { refreshToken });
    if (answer.status === 200 && this.take(user, answer, sentAt)) {
      this.result.refreshes++;
      return true;
    }
    this.result.refreshesRefused++;
    return false;
  }

  private async login(user: UserSession): Promise<void> {
    const credentials = { email: user.email, password: PASSWORD };
    if (!user.registered) {
      const answer = await this.send('register', 'POST', `${this.spec.path}/users`, credentials);
      // 409: registered by an earlier attempt whose answer was lost.
      if (answer.status !== 201 && answer.status !== 409) return this.forget(user);
      user.registered = true;
      if (answer.status === 201) this.result.registered++;
    }
    const sentAt = this.now();
    const answer = await this.send('login', 'POST', `${this.spec.path}/sessions`, credentials);
    if (answer.status === 201 && this.take(user, answer, sentAt)) this.result.logins++;
    else this.forget(user);
  }

  /** Keeps a token pair from a login or refresh answer to a request sent at `sentAt`. */
  private take(user: UserSession, answer: Answer, sentAt: number): boolean {
    const b = answer.body ?? {};
    if (typeof b['accessToken'] !== 'string' || typeof b['refreshToken'] !== 'string' || typeof b['expiresIn'] !== 'number') return false;
    user.access = b['accessToken'];
    user.refresh = b['refreshToken'];
    user.lifetimeMs = b['expiresIn'] * 1000;
    // Counted from when the request left, less a second (`exp` is in whole seconds): the token was
    // issued later than that, so the client never holds it longer than it is valid.
    user.expiresAt = sentAt + user.lifetimeMs - 1_000;
    return true;
  }

  private forget(user: UserSession): void {
    user.access = undefined;
    user.refresh = undefined;
    user.expiresAt = 0;
  }
}
