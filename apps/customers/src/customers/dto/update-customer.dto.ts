import { CustomerStatusFields, FULL_NAME_MAX, NameField } from './customer-input.fields';

/** The body of `PATCH /customers/:id`: the fields to change, at least one. */
export class UpdateCustomerDto extends CustomerStatusFields {
  @NameField({ description: 'Given name(s), trimmed', example: 'Ada', optional: true })
  firstName?: string;

  @NameField({ description: 'Family name, trimmed; empty for people known by one name', example: 'King', allowEmpty: true, optional: true })
  lastName?: string;

  @NameField({
    description: 'Since API 1.1. Alone: the new whole name, split at its last space (unchanged parts stay as they were). With both firstName and lastName: must equal them joined',
    example: 'Ada King',
    max: FULL_NAME_MAX,
    optional: true,
  })
  fullName?: string;
}
