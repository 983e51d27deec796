import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES, OrderStatus } from '@zdm/orders-domain';
import { IsIn } from 'class-validator';

/** The body of `POST /orders/:id/status`. */
export class ChangeStatusDto {
  @ApiProperty({
    enum: ORDER_STATUSES,
    example: 'paid',
    description: 'The new status: placed → paid → shipped → delivered; cancelled from placed or paid. Any other change is a 409; the current status again changes nothing.',
  })
  @IsIn(ORDER_STATUSES as unknown as OrderStatus[], { message: `status must be one of ${ORDER_STATUSES.join(', ')}` })
  status!: OrderStatus;
}
