import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { decideRefresh, hashRefreshToken, newRefreshToken, newSessionId, normalizeEmail, refreshTokenSession, startSession } from '@zdm/auth-domain';
import { MalformedSessionError, SessionsStore, type ReadSession } from '@zdm/auth-data-access';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import { authHubConfig } from '../app/auth-hub.config';
import { answerFromRedis } from '../app/redis.module';
import { SigningKey } from '../keys/signing-key';
import { CredentialsService } from '../users/credentials.service';
import { LoginDto } from './dto/login.dto';
import { TokenPairResponse } from './dto/token-pair.response';
import { LoginLimiter } from './login-limiter';

const INVALID_REFRESH = 'the refresh token is not valid (expired, revoked, already used or never issued); log in again';

/** How often a refresh re-reads a session that changed under it before giving up. */
const REFRESH_ATTEMPTS = 3;

/** Logins, refreshes and logouts; the credentials themselves are checked by {@link CredentialsService}. */
@Injectable()
export class SessionsService {
  private readonly log = new Logger(SessionsService.name);

  constructor(
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsStore,
    private readonly limiter: LoginLimiter,
    private readonly key: SigningKey,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig<typeof authHubConfig>,
  ) {}

  async login(body: LoginDto, ip: string): Promise<TokenPairResponse> {
    const email = normalizeEmail(body.email);
    await this.limiter.attempt(email, ip);
    const user = await this.credentials.check(email, body.password);
    await this.limiter.succeeded(email);
    const sid = newSessionId();
    const refreshToken = newRefreshToken(sid);
    await answerFromRedis(() => this.sessions.create(sid, startSession(user.id, hashRefreshToken(refreshToken), Date.now()), this.config.REFRESH_TOKEN_TTL_SECONDS));
    return this.pair(user.id, sid, refreshToken);
  }

  async refresh(refreshToken: string): Promise<TokenPairResponse> {
    const sid = refreshTokenSession(refreshToken);
    if (!sid) throw new UnauthorizedException(INVALID_REFRESH);
    const presented = hashRefreshToken(refreshToken);
    for (let attempt = 0; attempt < REFRESH_ATTEMPTS; attempt++) {
      const read = await this.readSession(sid);
      if (!read) throw new UnauthorizedException(INVALID_REFRESH);
      const next = newRefreshToken(sid);
      const decision = decideRefresh(read.record, presented, hashRefreshToken(next), Date.now());
      if (decision.kind === 'unknown') throw new UnauthorizedException(INVALID_REFRESH);
      if (decision.kind === 'reuse') {
        await answerFromRedis(() => this.sessions.revoke(sid, read.record.userId));
        this.log.warn(`session ${sid}: a refresh token was used twice; the session (user ${read.record.userId}) is revoked`);
        throw new UnauthorizedException('the refresh token was already used; the session is revoked, log in again');
      }
      if (await answerFromRedis(() => this.sessions.replace(sid, read, decision.next, this.config.REFRESH_TOKEN_TTL_SECONDS))) {
        return this.pair(read.record.userId, sid, next);
      }
    }
    // Changed on every attempt: another refresh won each time, so this token is no longer current.
    throw new UnauthorizedException(INVALID_REFRESH);
  }

  /** Ends one session of `userId` (idempotent: an ended session stays ended). */
  async logout(sid: string, userId: string): Promise<void> {
    await answerFromRedis(() => this.sessions.revoke(sid, userId));
  }

  /** Ends every session of the user; how many there were. */
  logoutEverywhere(userId: string): Promise<number> {
    return answerFromRedis(() => this.sessions.revokeUser(userId));
  }

  private async readSession(sid: string): Promise<ReadSession | null> {
    try {
      return await answerFromRedis(() => this.sessions.get(sid));
    } catch (err) {
      if (!(err instanceof MalformedSessionError)) throw err;
      this.log.error(err.message);
      return null;
    }
  }

  private async pair(userId: string, sid: string, refreshToken: string): Promise<TokenPairResponse> {
    const { ACCESS_TOKEN_TTL_SECONDS: ttlSeconds, REFRESH_TOKEN_TTL_SECONDS, TOKEN_ISSUER: issuer, TOKEN_AUDIENCE: audience } = this.config;
    const accessToken = await this.key.sign({ userId, sid }, { issuer, audience, ttlSeconds });
    return { tokenType: 'Bearer', accessToken, expiresIn: ttlSeconds, refreshToken, refreshExpiresIn: REFRESH_TOKEN_TTL_SECONDS };
  }
}
