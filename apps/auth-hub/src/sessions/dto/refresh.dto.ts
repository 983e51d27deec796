import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/** The body of `POST /sessions/refresh`. */
export class RefreshDto {
  @ApiProperty({ description: 'The refresh token of the last login or refresh; it can be used once', maxLength: 128 })
  @IsString({ message: 'refreshToken must be a string' })
  @MaxLength(128, { message: 'refreshToken must be at most 128 characters' })
  refreshToken!: string;
}
