import { ApiProperty } from '@nestjs/swagger';
import { CURRENCIES, ORDER_STATUSES, OrderStatus } from '@zdm/orders-domain';

/** The customer as the order keeps it: copied from the customers API when the order was placed. */
export class CustomerSnapshotResponse {
  @ApiProperty({ example: 'Ada' })
  firstName!: string;

  @ApiProperty({ example: 'Lovelace' })
  lastName!: string;
}

/** One line of an order. */
export class OrderLineResponse {
  @ApiProperty({ example: 'BOOK-42' })
  sku!: string;

  @ApiProperty({ type: 'integer', example: 2 })
  quantity!: number;

  @ApiProperty({ example: 19.99, description: "Price of one unit in major units of the order's currency" })
  unitPrice!: number;
}

/** An order as the API returns it. */
export class OrderResponse {
  @ApiProperty({ description: 'Order id (24 hexadecimal characters)', example: '665f1c2ab4d9e0a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ example: '665f1c2ab4d9e0a1b2c3d4e5' })
  customerId!: string;

  @ApiProperty({ type: CustomerSnapshotResponse })
  customer!: CustomerSnapshotResponse;

  @ApiProperty({ enum: CURRENCIES, example: 'EUR', description: 'ISO 4217 code of every price' })
  currency!: string;

  @ApiProperty({ type: [OrderLineResponse] })
  lines!: OrderLineResponse[];

  @ApiProperty({ example: 39.98, description: 'Σ quantity × unitPrice, in major units of the currency' })
  total!: number;

  @ApiProperty({ enum: ORDER_STATUSES, example: 'placed' })
  status!: OrderStatus;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

/** One page of `GET /orders`. */
export class OrderPageResponse {
  @ApiProperty({ type: [OrderResponse] })
  items!: OrderResponse[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page' })
  next!: string | null;
}
