import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { JSONWebKeySet } from 'jose';
import { SigningKey } from './signing-key';

/** How long clients may cache the key set, in seconds (they fetch it again for an unknown `kid`). */
const JWKS_MAX_AGE_SECONDS = 300;

@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly key: SigningKey) {}

  @Get('jwks.json')
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  @ApiOperation({ summary: 'The public keys access tokens are signed with (JWKS, RFC 7517): Ed25519, each with its kid' })
  @ApiOkResponse({ schema: { type: 'object', properties: { keys: { type: 'array', items: { type: 'object' } } }, required: ['keys'] } })
  jwks(): JSONWebKeySet {
    return this.key.jwks();
  }
}
