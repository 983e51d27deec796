import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsMongoId, IsOptional, Max, Min } from 'class-validator';

/** Largest page `GET /customers` returns. */
export const PAGE_MAX = 100;

/** The query of `GET /customers`. */
export class ListCustomersQuery {
  @ApiPropertyOptional({ description: 'Page size', minimum: 1, maximum: PAGE_MAX, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'Cursor: the `next` of the previous page (a customer id)', example: '665f1c2ab4d9e0a1b2c3d4e5' })
  @IsOptional()
  @IsMongoId({ message: 'after must be a cursor returned as next (a 24-character hexadecimal id)' })
  after?: string;
}
