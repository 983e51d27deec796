import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsMongoId, IsOptional, Max, Min } from 'class-validator';

/** Largest page `GET /orders` returns. */
export const PAGE_MAX = 100;

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 20;

/** An order id, customer id or cursor: 24 hexadecimal characters. */
export const OBJECT_ID_PATTERN = '^[0-9a-fA-F]{24}$';

/** Only decimal digits become a number (`" 1"`, `0x10`, `1e2` and `1.0` stay strings, and fail `IsInt`). */
const strictDecimal = ({ value }: { value: unknown }) => (typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value);

/** The query of `GET /orders`. */
export class ListOrdersQuery {
  @ApiPropertyOptional({ description: "Only this customer's orders", example: '665f1c2ab4d9e0a1b2c3d4e5', pattern: OBJECT_ID_PATTERN })
  @IsOptional()
  @IsMongoId({ message: 'customerId must be a customer id: 24 hexadecimal characters' })
  customerId?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Page size, in decimal digits', minimum: 1, maximum: PAGE_MAX, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Transform(strictDecimal)
  @IsInt({ message: 'limit must be a whole number in decimal digits' })
  @Min(1)
  @Max(PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'Cursor: the `next` of the previous page (an order id)', example: '665f1c2ab4d9e0a1b2c3d4e5', pattern: OBJECT_ID_PATTERN })
  @IsOptional()
  @IsMongoId({ message: 'after must be a cursor returned as next (a 24-character hexadecimal id)' })
  after?: string;
}
