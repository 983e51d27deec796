import { NameField } from './name.fields';

/** The body of `PATCH /customers/:id`: the fields to change, at least one. */
export class UpdateCustomerDto {
  @NameField({ description: 'Given name(s), trimmed', example: 'Ada', optional: true })
  firstName?: string;

  @NameField({ description: 'Family name, trimmed; empty for people known by one name', example: 'King', allowEmpty: true, optional: true })
  lastName?: string;
}
