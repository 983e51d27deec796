import { type CanActivate, type ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DependencyUnavailableError } from '@zdm/service-defaults';
import type { Request, Response } from 'express';
import type { AccessClaims } from './access-token';
import { AccessTokenVerifier, InvalidAccessTokenError, KeySetUnavailableError } from './access-token.verifier';

/** Injection token of the {@link AccessTokenVerifier} the guard uses. */
export const ACCESS_TOKEN_VERIFIER = Symbol('zdm:ACCESS_TOKEN_VERIFIER');

/** The name the auth hub goes by in 503 answers (`dependency`) when its key set cannot be fetched. */
export const AUTH_HUB_DEPENDENCY = 'auth-hub';

/** A request the guard let through carries the token's claims here. */
export interface AuthenticatedRequest extends Request {
  auth: AccessClaims;
}

/** `Bearer <JWT>`; the scheme is case-insensitive and may be followed by several spaces (RFC 7235). */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Lets a request through only with `Authorization: Bearer <valid access token>` and puts the
 * claims on `request.auth`. Otherwise 401 with `WWW-Authenticate: Bearer` (RFC 6750), saying why
 * without echoing the token; 503 naming `auth-hub` when the key set cannot be fetched.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(@Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthenticatedRequest>();
    const res = http.getResponse<Response>();
    const header = req.headers.authorization;
    if (!header) throw unauthorized(res, 'an access token is required: Authorization: Bearer <token>', false);
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized(res, 'the Authorization header must be Bearer followed by a JWT', true);
    try {
      req.auth = await this.verifier.verify(token);
      return true;
    } catch (err) {
      if (err instanceof InvalidAccessTokenError) throw unauthorized(res, err.message, true);
      if (err instanceof KeySetUnavailableError) throw new DependencyUnavailableError(AUTH_HUB_DEPENDENCY, err.message);
      throw err;
    }
  }
}

function unauthorized(res: Response, message: string, invalid: boolean): HttpException {
  const description = message.replace(/["\\]/g, "'");
  res.setHeader('WWW-Authenticate', invalid ? `Bearer error="invalid_token", error_description="${description}"` : 'Bearer');
  return new HttpException({ message }, HttpStatus.UNAUTHORIZED);
}
