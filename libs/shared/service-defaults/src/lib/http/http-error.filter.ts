import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { classifyDependencyError, RequestDeadlineExceededError } from '../resilience/dependency-errors';
import type { ErrorResponse, FieldError } from './error-response.types';

/** Seconds a client is asked to wait (`Retry-After`) before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The global filter: every error becomes an {@link ErrorResponse}. `HttpException`s keep their
 * status; errors carrying a 4xx `status` (body-parser's 413, 415, ...) keep theirs too; a store
 * that is down or too slow is a 503 with `Retry-After` naming it (a duplicate key a 409), a
 * request past its deadline a 504; anything else is logged and answered with a bare 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { statusCode, message, details, dependency } = describe(exception);
    if (statusCode === HttpStatus.INTERNAL_SERVER_ERROR) this.logger.error(exception instanceof Error ? exception : String(exception));
    else if (statusCode >= 500) this.logger.warn(message);
    if (res.headersSent) {
      res.end();
      return;
    }
    const body: ErrorResponse = {
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message,
      ...(details && { details }),
      ...(dependency && { dependency }),
      ...(req.id !== undefined && { requestId: String(req.id) }),
    };
    if (statusCode === HttpStatus.SERVICE_UNAVAILABLE || statusCode === HttpStatus.GATEWAY_TIMEOUT) {
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    res.status(statusCode).json(body);
  }
}

function describe(exception: unknown): Pick<ErrorResponse, 'statusCode' | 'message' | 'details' | 'dependency'> {
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    if (typeof response === 'string') return { statusCode: exception.getStatus(), message: response };
    const { message, details } = response as { message?: unknown; details?: FieldError[] };
    const text = Array.isArray(message)
      ? message.join('; ')
      : typeof message === 'string'
        ? message
        : exception.message;
    return { statusCode: exception.getStatus(), message: text, details };
  }
  const failure = classifyDependencyError(exception);
  if (failure?.kind === 'unavailable') {
    return { statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: `${failure.dependency} is unavailable: ${failure.reason}`, dependency: failure.dependency };
  }
  if (failure?.kind === 'conflict') return { statusCode: HttpStatus.CONFLICT, message: failure.reason };
  if (exception instanceof RequestDeadlineExceededError) return { statusCode: HttpStatus.GATEWAY_TIMEOUT, message: exception.message };
  const status = clientErrorStatus(exception);
  if (status !== undefined) return { statusCode: status, message: (exception as Error).message };
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
}

/** The status of an http-errors style error (body-parser, express) when it is a client error meant to be shown. */
function clientErrorStatus(exception: unknown): number | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { status, statusCode, expose } = exception as Error & {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
  };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && code >= 400 && code < 500 && expose !== false ? code : undefined;
}
