import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { CUSTOMER_STATUSES, CustomerStatus } from '@zdm/customers-domain';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsObject, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';

/** Longest accepted name part, in characters. */
export const NAME_MAX = 100;

/** Longest accepted full name: two parts and the space between. */
export const FULL_NAME_MAX = 2 * NAME_MAX + 1;

/**
 * Characters of a name, written out as ranges (not `\p{...}` classes) so that the OpenAPI
 * pattern means the same to every regex engine that reads it (JavaScript, Python's `re`).
 */
/** What JavaScript's `trim()` removes: ECMAScript WhiteSpace and LineTerminator. */
const SPACE = '\\u0009-\\u000d\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** C0 and C1 control characters: refused inside a name (around it they are trimmed as spaces). */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';
/** Characters that show nothing on their own: soft hyphen, zero-width and direction marks, joiners, fillers, variation selectors. */
const INVISIBLE =
  '\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u2800\\u3164\\ufe00-\\ufe0f\\uffa0\\ufff0-\\ufff8';
const TEXT = `[^${CONTROL}]`;
/** In `u` mode a surrogate pair is one code point, so only a lone surrogate is a `Surrogate` one. */
const LONE_SURROGATE = /\p{Surrogate}/u;
const VISIBLE = `[^${SPACE}${CONTROL}${INVISIBLE}]`;

/** A name: spaces around it, no control character inside, at least one visible character. */
export const NAME_PATTERN = `^[${SPACE}]*${TEXT}*${VISIBLE}${TEXT}*[${SPACE}]*$`;
/** The same, or nothing but spaces (an empty last name). */
export const NAME_OR_EMPTY_PATTERN = `^[${SPACE}]*(?:${TEXT}*${VISIBLE}${TEXT}*)?[${SPACE}]*$`;

/** Skips the other validators only when the field is missing; `null` is still checked (and rejected). */
const UnlessMissing = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Options of {@link NameField}. */
export interface NameFieldOptions {
  description: string;
  example: string;
  /** Whether nothing but spaces is accepted (e.g. a last name for people known by one name). */
  allowEmpty?: boolean;
  /** Longest accepted value, in characters (Unicode code points, spaces around it included). Default {@link NAME_MAX}. */
  max?: number;
  /** When the field may be left out: always (`true`), or when this returns true for the body. */
  optional?: boolean | ((body: Record<string, unknown>) => boolean);
  /** Whether the OpenAPI document lists it as required. Default: when `optional` is not `true`. */
  required?: boolean;
}

/** Why `value` is not a name (see {@link NameField}), or undefined when it is one. */
export function nameProblem(field: string, value: unknown, allowEmpty: boolean, max: number): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`;
  // Stored exactly as sent or refused: a lone surrogate would be stored as U+FFFD.
  if (LONE_SURROGATE.test(value)) return `${field} must be valid Unicode text: it contains a lone surrogate (invalid UTF-16)`;
  if ([...value].length > max) return `${field} must be at most ${max} characters`;
  if (!new RegExp(allowEmpty ? NAME_OR_EMPTY_PATTERN : NAME_PATTERN).test(value)) {
    return new RegExp(`[${CONTROL}]`).test(value.trim())
      ? `${field} must not contain control characters`
      : `${field} must contain at least one visible character${allowEmpty ? ', or be empty' : ''}`;
  }
  return undefined;
}

/**
 * A name, trimmed by the service before it is stored: a string of well-formed Unicode, at most
 * `max` characters as sent, with at least one visible character (or, with `allowEmpty`, only
 * spaces) and no control character inside. The OpenAPI document carries the same rules.
 */
export function NameField(options: NameFieldOptions): PropertyDecorator {
  const allowEmpty = options.allowEmpty ?? false;
  const max = options.max ?? NAME_MAX;
  const optional = options.optional;
  const skip =
    optional === true
      ? [UnlessMissing()]
      : typeof optional === 'function'
        ? [ValidateIf((body: object, value: unknown) => value !== undefined || !optional(body as Record<string, unknown>))]
        : [];
  return applyDecorators(
    ApiProperty({
      type: String,
      description: options.description,
      example: options.example,
      minLength: allowEmpty ? 0 : 1,
      maxLength: max,
      pattern: allowEmpty ? NAME_OR_EMPTY_PATTERN : NAME_PATTERN,
      required: options.required ?? !optional,
    }),
    ...skip,
    ValidateBy({
      name: 'isName',
      validator: {
        validate: (value, args) => nameProblem(args?.property ?? 'name', value, allowEmpty, max) === undefined,
        defaultMessage: (args) => nameProblem(args?.property ?? 'name', args?.value, allowEmpty, max) ?? '',
      },
    }),
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
