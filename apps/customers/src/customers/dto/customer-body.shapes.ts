import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { CUSTOMER_STATUSES, CustomerStatus } from '@zdm/customers-domain';
import { FULL_NAME_MAX, MarketingPreferencesDto, NameField } from './customer-input.fields';

/*
 * The shapes of the request bodies as the OpenAPI document states them (`oneOf`). Validation
 * itself runs on CreateCustomerDto and UpdateCustomerDto, which accept one more form: firstName,
 * lastName and fullName together when they agree.
 */

abstract class StatusFieldsShape {
  @ApiPropertyOptional({ enum: CUSTOMER_STATUSES, description: 'Since API 1.1 (customers v3). Default "Active". Writable once this instance writes v3, else 409.' })
  status?: CustomerStatus;

  @ApiPropertyOptional({ type: MarketingPreferencesDto, nullable: true, description: 'Since API 1.1 (customers v3). null until the customer said. Writable once this instance writes v3, else 409.' })
  marketingPreferences?: MarketingPreferencesDto | null;
}

@ApiSchema({ description: 'A new customer by name parts (API 1.0)' })
export class CreateCustomerByParts extends StatusFieldsShape {
  @NameField({ description: 'Given name(s); trimmed before it is stored', example: 'Ada' })
  firstName!: string;

  @NameField({ description: 'Family name; trimmed before it is stored; empty for people known by one name', example: 'Lovelace', allowEmpty: true })
  lastName!: string;
}

@ApiSchema({ description: 'A new customer by full name (API 1.1): split at its last space' })
export class CreateCustomerByFullName extends StatusFieldsShape {
  @NameField({ description: 'The whole name; trimmed, then split at its last space', example: 'Ada Lovelace', max: FULL_NAME_MAX })
  fullName!: string;
}

@ApiSchema({ description: 'A change to some of the name parts or the v3 fields (at least one field)' })
export class UpdateCustomerByParts extends StatusFieldsShape {
  @NameField({ description: 'Given name(s); trimmed before it is stored', example: 'Ada', optional: true })
  firstName?: string;

  @NameField({ description: 'Family name; trimmed before it is stored; empty for people known by one name', example: 'King', allowEmpty: true, optional: true })
  lastName?: string;
}

@ApiSchema({ description: 'A new full name (API 1.1): split at its last space, unless it is the current full name' })
export class UpdateCustomerByFullName extends StatusFieldsShape {
  @NameField({ description: 'The whole name; trimmed, then split at its last space', example: 'Ada King', max: FULL_NAME_MAX })
  fullName!: string;
}

/** The documentation-only shapes (for `@ApiExtraModels`). */
export const BODY_SHAPES = [CreateCustomerByParts, CreateCustomerByFullName, UpdateCustomerByParts, UpdateCustomerByFullName];
