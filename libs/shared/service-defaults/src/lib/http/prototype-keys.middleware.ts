import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { FieldError } from './error-response.types';

/** Keys class-transformer drops without a word, so the validation pipe's whitelist never sees them. */
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
 * Express middleware: a 400 for a body carrying `__proto__`, `constructor` or `prototype` keys, in
 * the validation pipe's shape (`Validation failed`, each path with `property <key> should not
 * exist`). The pipe cannot see these keys: they are dropped while the body becomes a DTO, so the
 * request would succeed with the key silently ignored. Mount it after {@link rejectOperatorKeys},
 * which caps the nesting this walk recurses into.
 */
export function rejectPrototypeKeys(req: Request, _res: Response, next: NextFunction): void {
  const paths = prototypeKeyPaths(req.body);
  if (paths.length === 0) return next();
  const details: FieldError[] = paths.map((field) => ({ field, errors: [`property ${field.split('.').pop()} should not exist`] }));
  next(new BadRequestException({ message: 'Validation failed', details }));
}
