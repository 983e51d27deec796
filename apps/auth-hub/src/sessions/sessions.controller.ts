import { Body, Controller, Delete, HttpCode, Ip, Post, Req, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiNoContentResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { RequiresAccessToken, type AuthenticatedRequest } from '@zdm/auth-guard';
import { ErrorResponseBody } from '@zdm/service-defaults';
import { LoginDto } from './dto/login.dto';
import { RefreshDto } from './dto/refresh.dto';
import { RevokedSessionsResponse, TokenPairResponse } from './dto/token-pair.response';
import { RetryAfterInterceptor } from './retry-after.interceptor';
import { SessionsService } from './sessions.service';

// 400, 413 (with a body), 503 and 504 are added to every route by the service defaults.
@ApiTags('sessions')
@ApiServiceUnavailableResponse({ type: ErrorResponseBody, description: 'The user store (`dependency: "mongo"`) or the session store (`dependency: "redis"`) is down or too slow' })
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @UseInterceptors(RetryAfterInterceptor)
  @ApiOperation({ summary: 'Log in: an access token and a refresh token. Rate-limited per account and per client IP' })
  @ApiCreatedResponse({ type: TokenPairResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponseBody, description: 'Unknown address or wrong password (one answer for both)' })
  @ApiTooManyRequestsResponse({ type: ErrorResponseBody, description: 'Too many attempts for this account or from this IP', headers: { 'Retry-After': { description: 'Seconds until the next attempt is let through', schema: { type: 'integer' } } } })
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<TokenPairResponse> {
    return this.sessions.login(body, ip);
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair (rotation). A refresh token used twice revokes its whole session' })
  @ApiOkResponse({ type: TokenPairResponse })
  @ApiUnauthorizedResponse({ type: ErrorResponseBody, description: 'Expired, revoked, already used (the session is then revoked) or never issued' })
  refresh(@Body() body: RefreshDto): Promise<TokenPairResponse> {
    return this.sessions.refresh(body.refreshToken);
  }

  @Delete('current')
  @HttpCode(204)
  @RequiresAccessToken()
  @ApiOperation({ summary: "Log out: end the access token's session (its refresh token stops working; the access token itself lives until it expires)" })
  @ApiNoContentResponse()
  logout(@Req() req: AuthenticatedRequest): Promise<void> {
    return this.sessions.logout(req.auth.sid, req.auth.sub);
  }

  @Delete()
  @RequiresAccessToken()
  @ApiOperation({ summary: "Log out everywhere: end every session of the token's user" })
  @ApiHeader({ name: 'Authorization', required: true, description: 'Bearer <access token>' })
  @ApiOkResponse({ type: RevokedSessionsResponse })
  async logoutEverywhere(@Req() req: AuthenticatedRequest): Promise<RevokedSessionsResponse> {
    return { revoked: await this.sessions.logoutEverywhere(req.auth.sub) };
  }
}
