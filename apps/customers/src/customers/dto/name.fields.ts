import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, Matches, ValidateIf } from 'class-validator';

/** Longest accepted name part, in characters. */
export const NAME_MAX = 100;

const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Options of {@link NameField}. */
export interface NameFieldOptions {
  description: string;
  example: string;
  /** Whether the empty string is accepted (e.g. a last name for people known by one name). */
  allowEmpty?: boolean;
  /** Whether the field may be left out (`null` is still rejected). */
  optional?: boolean;
}

/** A trimmed name part: a string without control characters, up to {@link NAME_MAX} characters. */
export function NameField(options: NameFieldOptions): PropertyDecorator {
  const min = options.allowEmpty ? 0 : 1;
  return applyDecorators(
    ApiProperty({ description: options.description, example: options.example, minLength: min, maxLength: NAME_MAX, required: !options.optional }),
    Transform(trim),
    // Not IsOptional(): that would let `null` through; only a missing field may be skipped.
    ...(options.optional ? [ValidateIf((_object: object, value: unknown) => value !== undefined)] : []),
    IsString(),
    Length(min, NAME_MAX, { message: `$property must be ${min}-${NAME_MAX} characters after trimming` }),
    Matches(NO_CONTROL_CHARACTERS, { message: '$property must not contain control characters' }),
  );
}
