import type { OpenAPIObject } from '@nestjs/swagger';
import { RETRY_AFTER_SECONDS } from '../http/http-error.filter';

type Json = Record<string, unknown>;
type Operation = { responses?: Record<string, unknown>; requestBody?: unknown };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const ERROR_REF = { $ref: '#/components/schemas/ErrorResponseBody' };

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', example: RETRY_AFTER_SECONDS } },
};

/** What every operation may answer, whatever its handler does (see the service defaults' README). */
const ANSWERS_OF_EVERY_OPERATION: Record<string, { description: string; retry?: boolean; withBody?: boolean }> = {
  '400': { description: 'Invalid input: a `$`-prefixed or prototype key, an unknown or invalid field, malformed JSON' },
  '413': { description: 'The body is larger than the service accepts (`HTTP_BODY_LIMIT`)', withBody: true },
  '503': { description: 'A dependency (named in `dependency`) is down or did not answer before the request deadline', retry: true },
  '504': { description: 'No answer before the request deadline (`REQUEST_TIMEOUT_MS`)', retry: true },
};

/**
 * Completes the generated document with what the defaults do on every route, so that it states
 * what the service sends: the error answers any operation can give (400, 503 and 504 with
 * `Retry-After`, 413 where there is a body) with the {@link ErrorResponseBody} schema, and
 * `additionalProperties: false` on request bodies (unknown keys are a 400). Responses a route
 * documents itself are kept.
 */
export function completeServiceDocument(document: OpenAPIObject): OpenAPIObject {
  const bodySchemas = new Set<string>();
  for (const path of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = (path as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      const responses = (operation.responses ??= {});
      for (const [status, answer] of Object.entries(ANSWERS_OF_EVERY_OPERATION)) {
        if (responses[status] || (answer.withBody && !operation.requestBody)) continue;
        responses[status] = {
          description: answer.description,
          ...(answer.retry && { headers: retryAfter }),
          content: { 'application/json': { schema: ERROR_REF } },
        };
      }
      for (const [status, response] of Object.entries(responses)) {
        if (status === '503' || status === '504') (response as Json)['headers'] ??= retryAfter;
      }
      collectRefs(operation.requestBody, bodySchemas);
    }
  }
  const schemas = (document.components?.schemas ?? {}) as Record<string, Json>;
  const closed = new Set<string>();
  const close = (name: string) => {
    const schema = schemas[name];
    if (!schema || closed.has(name)) return;
    closed.add(name);
    if (schema['type'] === 'object' || schema['properties']) schema['additionalProperties'] = false;
    const nested = new Set<string>();
    collectRefs(schema['properties'], nested);
    nested.forEach(close);
  };
  bodySchemas.forEach(close);
  return document;
}

/** Names of the component schemas referenced anywhere inside `value`. */
function collectRefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, into));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) into.add(v.slice('#/components/schemas/'.length));
      else collectRefs(v, into);
    }
  }
}
