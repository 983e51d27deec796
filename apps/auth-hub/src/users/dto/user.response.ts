import { ApiProperty } from '@nestjs/swagger';

/** A user as the API returns it: never the password or its hash. */
export class UserResponse {
  @ApiProperty({ description: 'User id (24 hexadecimal characters); the `sub` of its access tokens', example: '665f1c2ab4d9e0a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ description: 'The address as stored: trimmed and lower-cased', example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
}
