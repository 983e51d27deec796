import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse, type DocumentBuilder } from '@nestjs/swagger';
import { ErrorResponseBody } from '@zdm/service-defaults';
import { AccessTokenGuard } from './access-token.guard';

/** The name of the bearer security scheme in OpenAPI documents. */
export const BEARER_SCHEME = 'bearer';

/** Adds the bearer (JWT access token) security scheme to an OpenAPI document; pass as the service's `openApi` option. */
export function withBearerScheme(builder: DocumentBuilder): DocumentBuilder {
  return builder.addBearerAuth(
    { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from the auth hub (POST /sessions), EdDSA-signed' },
    BEARER_SCHEME,
  );
}

/** Requires a valid access token on a route or controller, and says so in OpenAPI (security + 401). */
export function RequiresAccessToken(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AccessTokenGuard),
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({ type: ErrorResponseBody, description: 'No access token, or one that is expired, badly signed or not issued for this audience' }),
  );
}
