import { ApiProperty } from '@nestjs/swagger';
import type { ErrorResponse, FieldError } from '../http/error-response.types';

/** OpenAPI schema of one {@link FieldError}. */
export class FieldErrorBody implements FieldError {
  @ApiProperty({ description: 'Dotted path of the field, e.g. `firstName`, `marketingPreferences.email`, `query.$where`', example: 'firstName' })
  field!: string;

  @ApiProperty({ type: [String], description: 'What is wrong with it, one sentence each', example: ['firstName must be a string'] })
  errors!: string[];
}

/** OpenAPI schema of the {@link ErrorResponse} every error is answered with. */
export class ErrorResponseBody implements ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'Validation failed' })
  message!: string;

  @ApiProperty({ type: [FieldErrorBody], required: false, description: 'One entry per invalid field, when the input was at fault' })
  details?: FieldErrorBody[];

  @ApiProperty({ required: false, example: 'mongo', description: 'On a 503: the dependency that is down or too slow, as its readiness check is named' })
  dependency?: string;

  @ApiProperty({ required: false, description: 'The request id, as in the `x-request-id` response header' })
  requestId?: string;
}
