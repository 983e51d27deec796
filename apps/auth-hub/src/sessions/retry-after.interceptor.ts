import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { catchError, type Observable, throwError } from 'rxjs';
import { TooManyLoginAttemptsError } from './login-limiter';

/** Puts `Retry-After` on 429 answers (the error filter writes the body). */
@Injectable()
export class RetryAfterInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (err instanceof TooManyLoginAttemptsError) context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(err.retryAfterSeconds));
        return throwError(() => err);
      }),
    );
  }
}
