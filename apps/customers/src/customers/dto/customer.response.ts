import { ApiProperty } from '@nestjs/swagger';

/** A customer as the API returns it. */
export class CustomerResponse {
  @ApiProperty({ description: 'Customer id (24 hexadecimal characters)', example: '665f1c2ab4d9e0a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ example: 'Ada' })
  firstName!: string;

  @ApiProperty({ example: 'Lovelace' })
  lastName!: string;

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

/** The body of every error (see @zdm/service-defaults). */
export class ErrorResponseBody {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'Validation failed' })
  message!: string;

  @ApiProperty({
    required: false,
    description: 'One entry per invalid field',
    example: [{ field: 'firstName', errors: ['firstName must be a string'] }],
  })
  details?: { field: string; errors: string[] }[];

  @ApiProperty({ required: false })
  requestId?: string;
}
