import { BadRequestException, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Keys class-transformer drops without a word, so the global whitelist never sees them. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Dotted paths of every prototype key in `value`, at any depth. */
export function prototypeKeyPaths(value: unknown, path = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  return Object.keys(value).flatMap((key) => {
    const here = path ? `${path}.${key}` : key;
    return [...(PROTOTYPE_KEYS.has(key) ? [here] : []), ...prototypeKeyPaths((value as Record<string, unknown>)[key], here)];
  });
}

/**
 * Rejects bodies carrying `__proto__`, `constructor` or `prototype` keys with a 400 naming them,
 * as the validation pipe does for other unknown keys (it cannot see these: they are dropped
 * while the body becomes a DTO, so the request would succeed with the key silently ignored).
 */
@Injectable()
export class RejectPrototypeKeysMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    const paths = prototypeKeyPaths(req.body);
    if (paths.length === 0) return next();
    throw new BadRequestException({
      message: 'Validation failed',
      details: paths.map((field) => ({ field, errors: [`property ${field.split('.').pop()} should not exist`] })),
    });
  }
}
