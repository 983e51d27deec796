import { ApiProperty } from '@nestjs/swagger';
import { CUSTOMER_STATUSES, CustomerStatus } from '@zdm/customers-domain';
import { MarketingPreferencesDto } from './customer-input.fields';

/**
 * A customer as the API returns it. Backward compatible: every field of API 1.0 (`firstName`,
 * `lastName`) is still there with the same meaning in every migration phase; 1.1 only adds fields.
 */
export class CustomerResponse {
  @ApiProperty({ description: 'Customer id (24 hexadecimal characters)', example: '665f1c2ab4d9e0a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ example: 'Ada', description: 'Exactly as last written (also when it was written as fullName)' })
  firstName!: string;

  @ApiProperty({ example: 'Lovelace', description: 'Exactly as last written; may be empty' })
  lastName!: string;

  @ApiProperty({ example: 'Ada Lovelace', description: 'Since API 1.1: firstName and lastName joined by one space (the one non-empty part alone)' })
  fullName!: string;

  @ApiProperty({ enum: CUSTOMER_STATUSES, example: 'Active', description: 'Since API 1.1: "Active" for customers stored before it existed' })
  status!: CustomerStatus;

  @ApiProperty({ type: MarketingPreferencesDto, nullable: true, description: 'Since API 1.1: null until the customer said' })
  marketingPreferences!: MarketingPreferencesDto | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

/** One page of `GET /customers`. */
export class CustomerPageResponse {
  @ApiProperty({ type: [CustomerResponse] })
  items!: CustomerResponse[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page' })
  next!: string | null;
}
