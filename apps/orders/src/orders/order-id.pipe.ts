import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { isObjectIdHex } from '@zdm/migrations-mongo';

/** Accepts an order id (24 hexadecimal characters) in the path; anything else is a 400 naming the field. */
@Injectable()
export class OrderIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (isObjectIdHex(value)) return value.toLowerCase();
    throw new BadRequestException({
      message: 'Validation failed',
      details: [{ field: 'id', errors: ['id must be an order id: 24 hexadecimal characters'] }],
    });
  }
}
