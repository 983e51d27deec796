import { ApiProperty } from '@nestjs/swagger';
import { CURRENCIES } from '@zdm/orders-domain';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNumber, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import { OBJECT_ID_PATTERN } from '@zdm/migrations-nest';

/** Most lines one order may have. */
export const LINES_MAX = 100;

/** Largest quantity of one line. */
export const QUANTITY_MAX = 1_000_000;

/** A stock-keeping unit: 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export const SKU_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** One line of a new order. */
export class OrderLineDto {
  @ApiProperty({ description: 'Stock-keeping unit', example: 'BOOK-42', pattern: SKU_PATTERN, maxLength: 64 })
  @IsString({ message: 'sku must be a string' })
  @Matches(new RegExp(SKU_PATTERN), { message: 'sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  sku!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: QUANTITY_MAX, example: 2 })
  @IsInt({ message: 'quantity must be a whole number' })
  @Min(1)
  @Max(QUANTITY_MAX)
  quantity!: number;

  @ApiProperty({
    description:
      "Price of one unit in major units of the order's currency (19.99 EUR), with at most as many decimals as the currency has (EUR 2, JPY 0, BHD 3); " +
      'not negative; at most 2^53-1 minor units. A price with more decimals is refused, never rounded.',
    example: 19.99,
    minimum: 0,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'unitPrice must be a number' })
  @Min(0, { message: 'unitPrice must not be negative' })
  unitPrice!: number;
}

/** The body of `POST /orders`. */
export class CreateOrderDto {
  @ApiProperty({ description: 'Id of a customer of the customers service', example: '665f1c2ab4d9e0a1b2c3d4e5', pattern: OBJECT_ID_PATTERN })
  @IsString({ message: 'customerId must be a string' })
  @Matches(new RegExp(OBJECT_ID_PATTERN), { message: 'customerId must be a customer id: 24 hexadecimal characters' })
  customerId!: string;

  @ApiProperty({ description: 'ISO 4217 code of the currency of every price', enum: CURRENCIES, example: 'EUR' })
  @IsIn(CURRENCIES as string[], { message: `currency must be one of ${CURRENCIES.join(', ')}` })
  currency!: string;

  @ApiProperty({ type: [OrderLineDto], minItems: 1, maxItems: LINES_MAX })
  @IsArray({ message: 'lines must be an array' })
  @ArrayMinSize(1, { message: 'lines must hold at least one line' })
  @ArrayMaxSize(LINES_MAX, { message: `lines must hold at most ${LINES_MAX} lines` })
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  lines!: OrderLineDto[];
}
