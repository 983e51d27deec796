import { CustomerStatusFields, FULL_NAME_MAX, NameField } from './customer-input.fields';

const hasFullName = (body: Record<string, unknown>) => body['fullName'] !== undefined;

/**
 * The body of `POST /customers`. Old clients send `firstName` and `lastName`; new clients may send
 * `fullName` instead (split at its last space), or all three when they agree.
 */
export class CreateCustomerDto extends CustomerStatusFields {
  @NameField({ description: 'Given name(s), trimmed. Required unless fullName is given', example: 'Ada', optional: hasFullName })
  firstName?: string;

  @NameField({
    description: 'Family name, trimmed; empty for people known by one name. Required unless fullName is given',
    example: 'Lovelace',
    allowEmpty: true,
    optional: hasFullName,
  })
  lastName?: string;

  @NameField({
    description: 'Since API 1.1. The whole name; alone it is split at its last space. With firstName and lastName it must equal them joined by one space',
    example: 'Ada Lovelace',
    max: FULL_NAME_MAX,
    optional: true,
  })
  fullName?: string;
}
