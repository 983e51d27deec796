import { ApiProperty } from '@nestjs/swagger';
import { CURRENCIES, ORDER_STATUSES, OrderStatus } from '@zdm/orders-domain';

/** The customer as the order keeps it: copied from the customers API when the order was placed. */
export class CustomerSnapshotResponse {
  @ApiProperty({ example: 'Ada', description: 'As copied; for an order stored only with fullName (after orders.customer-snapshot contract), fullName split at its last space' })
  firstName!: string;

  @ApiProperty({ example: 'Lovelace', description: 'As copied; for an order stored only with fullName (after orders.customer-snapshot contract), fullName split at its last space' })
  lastName!: string;

  @ApiProperty({ example: 'Ada Lovelace', description: 'Since API 1.2: the full name as the customers API gave it (1.1), or firstName and lastName joined by one space' })
  fullName!: string;
}

/** An amount in integer minor units of an ISO 4217 currency (API 1.1): 19.99 EUR is `{ minor: 1999, currency: "EUR" }`. */
export class MoneyResponse {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 1999, description: 'Whole minor units (cents for EUR, yen for JPY, fils for BHD)' })
  minor!: number;

  @ApiProperty({ enum: CURRENCIES, example: 'EUR' })
  currency!: string;
}

/** One line of an order. */
export class OrderLineResponse {
  @ApiProperty({ example: 'BOOK-42' })
  sku!: string;

  @ApiProperty({ type: 'integer', example: 2 })
  quantity!: number;

  @ApiProperty({ example: 19.99, description: "Price of one unit in major units of the order's currency (API 1.0; kept in every phase)" })
  unitPrice!: number;

  @ApiProperty({
    type: MoneyResponse,
    nullable: true,
    description:
      'Since API 1.1: the same price in integer minor units with its currency. null only for an order stored before orders.money whose float price is not a whole number of minor units (quarantined until an operator fixes it)',
  })
  unitPriceMoney!: MoneyResponse | null;
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

  @ApiProperty({ example: 39.98, description: 'Σ quantity × unitPrice, in major units of the currency (API 1.0; kept in every phase)' })
  total!: number;

  @ApiProperty({
    type: MoneyResponse,
    nullable: true,
    description:
      'Since API 1.1: the total in integer minor units with its currency. null only for an order stored before orders.money whose float amounts do not convert exactly (quarantined until an operator fixes it)',
  })
  totalMoney!: MoneyResponse | null;

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
