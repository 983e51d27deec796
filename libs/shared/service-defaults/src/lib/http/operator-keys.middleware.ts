import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { FieldError } from './error-response.types';

/** Deepest nesting of objects and arrays accepted in a body or query. */
export const MAX_INPUT_DEPTH = 32;

/** At most this many offending keys are named in one response. */
const MAX_REPORTED = 10;

/**
 * Express middleware against NoSQL operator injection: a 400 for any key starting with `$`
 * anywhere in the JSON/form body or the query string (`?a[$ne]=1` included, whichever query
 * parser is set), and for input nested deeper than {@link MAX_INPUT_DEPTH}. Mount it after the
 * body parsers. It walks iteratively, so hostile nesting cannot overflow the stack.
 */
export function rejectOperatorKeys(req: Request, _res: Response, next: NextFunction): void {
  const problems = [...findOperatorKeys(req.body, 'body'), ...findOperatorKeys(req.query, 'query')].slice(
    0,
    MAX_REPORTED,
  );
  if (problems.length === 0) return next();
  next(
    new BadRequestException({
      message: `Input rejected: ${problems.map((p) => `${p.field} (${p.errors[0]})`).join(', ')}`,
      details: problems,
    }),
  );
}

function findOperatorKeys(root: unknown, location: string): FieldError[] {
  const problems: FieldError[] = [];
  const pending: { value: unknown; path: string; depth: number }[] = [{ value: root, path: location, depth: 0 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, path, depth } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_INPUT_DEPTH) {
      problems.push({ field: path, errors: [`nested deeper than ${MAX_INPUT_DEPTH} levels`] });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      if (key.split(/[[\].]/).some((segment) => segment.startsWith('$'))) {
        problems.push({ field: childPath, errors: ['keys starting with "$" are not allowed'] });
      } else {
        pending.push({ value: child, path: childPath, depth: depth + 1 });
      }
    }
  }
  return problems;
}
