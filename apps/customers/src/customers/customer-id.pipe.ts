import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { isCustomerId } from '@zdm/customers-data-access';

/** Accepts a customer id (24 hexadecimal characters) in the path; anything else is a 400 naming the field. */
@Injectable()
export class CustomerIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (isCustomerId(value)) return value.toLowerCase();
    throw new BadRequestException({
      message: 'Validation failed',
      details: [{ field: 'id', errors: ['id must be a customer id: 24 hexadecimal characters'] }],
    });
  }
}
