import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { CUSTOMER_STATUSES, CustomerStatus } from '@zdm/customers-domain';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsObject, IsString, Length, Matches, ValidateIf, ValidateNested } from 'class-validator';

/** Longest accepted name part, in characters. */
export const NAME_MAX = 100;

/** Longest accepted full name: two parts and the space between. */
export const FULL_NAME_MAX = 2 * NAME_MAX + 1;

const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Skips the other validators only when the field is missing; `null` is still checked (and rejected). */
const UnlessMissing = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Options of {@link NameField}. */
export interface NameFieldOptions {
  description: string;
  example: string;
  /** Whether the empty string is accepted (e.g. a last name for people known by one name). */
  allowEmpty?: boolean;
  /** Longest accepted value. Default {@link NAME_MAX}. */
  max?: number;
  /** When the field may be left out: always (`true`), or when this returns true for the body. */
  optional?: boolean | ((body: Record<string, unknown>) => boolean);
}

/** A trimmed name: a string without control characters, within the length limits. */
export function NameField(options: NameFieldOptions): PropertyDecorator {
  const min = options.allowEmpty ? 0 : 1;
  const max = options.max ?? NAME_MAX;
  const optional = options.optional;
  const skip =
    optional === true
      ? [UnlessMissing()]
      : typeof optional === 'function'
        ? [ValidateIf((body: object, value: unknown) => value !== undefined || !optional(body as Record<string, unknown>))]
        : [];
  return applyDecorators(
    ApiProperty({ description: options.description, example: options.example, minLength: min, maxLength: max, required: !optional }),
    Transform(trim),
    ...skip,
    IsString(),
    Length(min, max, { message: `$property must be ${min}-${max} characters after trimming` }),
    Matches(NO_CONTROL_CHARACTERS, { message: '$property must not contain control characters' }),
  );
}

/** Marketing consent per channel (v3). */
export class MarketingPreferencesDto {
  @ApiProperty({ description: 'May we send marketing e-mail?' })
  @IsBoolean()
  email!: boolean;

  @ApiProperty({ description: 'May we send marketing text messages?' })
  @IsBoolean()
  sms!: boolean;
}

/** `status`: one of {@link CUSTOMER_STATUSES}; may be left out. */
export function StatusField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      enum: CUSTOMER_STATUSES,
      required: false,
      description: 'Since API 1.1 (customers v3). Default "Active". Writable once this instance writes v3, else 409.',
    }),
    UnlessMissing(),
    IsIn(CUSTOMER_STATUSES as unknown as CustomerStatus[], { message: `status must be one of ${CUSTOMER_STATUSES.join(', ')}` }),
  );
}

/** `marketingPreferences`: an object `{ email, sms }` or null; may be left out. */
export function MarketingPreferencesField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: MarketingPreferencesDto,
      nullable: true,
      required: false,
      description: 'Since API 1.1 (customers v3). null until the customer said. Writable once this instance writes v3, else 409.',
    }),
    ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null),
    IsObject({ message: 'marketingPreferences must be null or an object { email, sms }' }),
    ValidateNested(),
    Type(() => MarketingPreferencesDto),
  );
}

/** The v3 fields both POST and PATCH accept (API 1.1); a body DTO extends it. */
export abstract class CustomerStatusFields {
  @StatusField()
  status?: CustomerStatus;

  @MarketingPreferencesField()
  marketingPreferences?: MarketingPreferencesDto | null;
}
