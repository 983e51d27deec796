import { ApiProperty } from '@nestjs/swagger';

/** What a login or a refresh returns. */
export class TokenPairResponse {
  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'EdDSA-signed JWT (typ at+jwt, with kid): send as Authorization: Bearer <token>' })
  accessToken!: string;

  @ApiProperty({ description: 'Seconds the access token is valid for' })
  expiresIn!: number;

  @ApiProperty({ description: 'Opaque; exchange it once at POST /sessions/refresh for a new pair. Using it twice revokes the session' })
  refreshToken!: string;

  @ApiProperty({ description: 'Seconds the refresh token is valid for' })
  refreshExpiresIn!: number;
}

/** What logging out everywhere returns. */
export class RevokedSessionsResponse {
  @ApiProperty({ description: 'How many sessions were ended' })
  revoked!: number;
}
