import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { FieldError } from './error-response.types';

/** Deepest nesting of objects and arrays accepted in a body or query. */
export const MAX_INPUT_DEPTH = 32;

/** At most this many offending keys are named in one response. */
const MAX_REPORTED = 10;

/** Keys class-transformer drops without a word, so the validation pipe's whitelist never sees them. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Express middleware against NoSQL operator injection and silently dropped keys, in one walk of
 * the input. A 400 for:
 * - any key starting with `$` anywhere in the JSON/form body or the query string (`?a[$ne]=1`
 *   included, whichever query parser is set), and input nested deeper than
 *   {@link MAX_INPUT_DEPTH};
 * - otherwise, a `__proto__`, `constructor` or `prototype` key anywhere in the body, in the
 *   validation pipe's shape (`Validation failed`, `property <key> should not exist`): the pipe
 *   cannot see these keys, as they are dropped while the body becomes a DTO.
 * Mount it after the body parsers. It walks iteratively, so hostile nesting cannot overflow the stack.
 */
export function rejectOperatorKeys(req: Request, _res: Response, next: NextFunction): void {
  const body = findUnsafeKeys(req.body, 'body');
  const problems = [...body.operators, ...findUnsafeKeys(req.query, 'query').operators].slice(0, MAX_REPORTED);
  if (problems.length) {
    return next(
      new BadRequestException({
        message: `Input rejected: ${problems.map((p) => `${p.field} (${p.errors[0]})`).join(', ')}`,
        details: problems,
      }),
    );
  }
  if (body.prototypeKeys.length) {
    const details: FieldError[] = body.prototypeKeys.map((field) => ({ field, errors: [`property ${field.split('.').pop()} should not exist`] }));
    return next(new BadRequestException({ message: 'Validation failed', details }));
  }
  next();
}

/**
 * `$`-keys and over-deep input (paths from `location`), and prototype keys (paths from the root,
 * as the validation pipe names fields), in the order the walk meets them.
 */
function findUnsafeKeys(root: unknown, location: string): { operators: FieldError[]; prototypeKeys: string[] } {
  const operators: FieldError[] = [];
  const prototypeKeys: string[] = [];
  const pending: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, path, depth } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_INPUT_DEPTH) {
      operators.push({ field: path ? `${location}.${path}` : location, errors: [`nested deeper than ${MAX_INPUT_DEPTH} levels`] });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.split(/[[\].]/).some((segment) => segment.startsWith('$'))) {
        operators.push({ field: `${location}.${childPath}`, errors: ['keys starting with "$" are not allowed'] });
        continue;
      }
      if (PROTOTYPE_KEYS.has(key)) prototypeKeys.push(childPath);
      pending.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return { operators, prototypeKeys };
}
