import { NameField } from './name.fields';

/** The body of `POST /customers`. */
export class CreateCustomerDto {
  @NameField({ description: 'Given name(s), trimmed', example: 'Ada' })
  firstName!: string;

  @NameField({ description: 'Family name, trimmed; empty for people known by one name', example: 'Lovelace', allowEmpty: true })
  lastName!: string;
}
