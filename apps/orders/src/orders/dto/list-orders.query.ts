import { ApiPropertyOptional } from '@nestjs/swagger';
import { CursorPageQuery, OBJECT_ID_PATTERN } from '@zdm/migrations-nest';
import { IsMongoId, IsOptional } from 'class-validator';

/** The query of `GET /orders`: `limit`, `after`, and optionally one customer's orders only. */
export class ListOrdersQuery extends CursorPageQuery {
  @ApiPropertyOptional({ description: "Only this customer's orders", example: '665f1c2ab4d9e0a1b2c3d4e5', pattern: OBJECT_ID_PATTERN })
  @IsOptional()
  @IsMongoId({ message: 'customerId must be a customer id: 24 hexadecimal characters' })
  customerId?: string;
}
