import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam, ApiPropertyOptional } from '@nestjs/swagger';
import { isObjectIdHex } from '@zdm/migrations-mongo';
import { Transform } from 'class-transformer';
import { IsInt, IsMongoId, IsOptional, Max, Min } from 'class-validator';

/** A document id or cursor in the API: 24 hexadecimal characters. */
export const OBJECT_ID_PATTERN = '^[0-9a-fA-F]{24}$';

/** Largest page a list route returns. */
export const PAGE_MAX = 100;

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * A pipe accepting the `id` path parameter of one `entity` (`customer`, `order`): 24 hexadecimal
 * characters, lower-cased; anything else is a 400 naming the field.
 */
export function objectIdPipe(entity: string): new () => PipeTransform<unknown, string> {
  @Injectable()
  class ObjectIdPipe implements PipeTransform<unknown, string> {
    transform(value: unknown): string {
      if (isObjectIdHex(value)) return value.toLowerCase();
      throw new BadRequestException({ message: 'Validation failed', details: [{ field: 'id', errors: [`id must be ${/^[aeiou]/.test(entity) ? 'an' : 'a'} ${entity} id: 24 hexadecimal characters`] }] });
    }
  }
  return ObjectIdPipe;
}

/** The `id` path parameter as the OpenAPI document states it. */
export const ObjectIdParam = (description: string) => ApiParam({ name: 'id', description, schema: { type: 'string', pattern: OBJECT_ID_PATTERN } });

/** Only decimal digits become a number (`" 1"`, `0x10`, `1e2` and `1.0` stay strings, and fail `IsInt`). */
const strictDecimal = ({ value }: { value: unknown }) => (typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value);

/** `limit` and `after` of a list route that pages in `_id` order; a route's query class extends it. */
export class CursorPageQuery {
  @ApiPropertyOptional({ type: 'integer', description: 'Page size, in decimal digits', minimum: 1, maximum: PAGE_MAX, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Transform(strictDecimal)
  @IsInt({ message: 'limit must be a whole number in decimal digits' })
  @Min(1)
  @Max(PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'Cursor: the `next` of the previous page (an id)', example: '665f1c2ab4d9e0a1b2c3d4e5', pattern: OBJECT_ID_PATTERN })
  @IsOptional()
  @IsMongoId({ message: 'after must be a cursor returned as next (a 24-character hexadecimal id)' })
  after?: string;
}
