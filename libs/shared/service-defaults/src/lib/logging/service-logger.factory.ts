import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import pino, { type Level, type Logger, type LevelWithSilent } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

/** DI token of the service's root pino logger. */
export const ROOT_LOGGER = Symbol('zdm:root-logger');

/** Paths polled by probes and scrapers: logged only when they fail, and then as warnings (a drain fails them on purpose). */
const QUIET_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/** Accepted shape of an incoming `x-request-id` (anything else is replaced by a UUID). */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Settings of the root logger. */
export interface RootLoggerOptions {
  /** Minimum level written. */
  level: LevelWithSilent;
  /** Read on every line, so the service name can be set after the logger exists. */
  service: () => string | undefined;
  /** Where lines go. Default stdout. */
  destination?: pino.DestinationStream;
}

/** Fields never written as they are: credential headers, and passwords and tokens wherever a log line carries them (one level deep). */
export const CREDENTIAL_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...['password', 'refreshToken', 'accessToken', 'token'].flatMap((field) => [field, `*.${field}`, `req.body.${field}`]),
];

/** One JSON object per line on stdout, ISO timestamps, textual levels, credentials redacted. */
export function createRootLogger({ level, service, destination }: RootLoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const name = service();
      return name === undefined ? {} : { service: name };
    },
    redact: { paths: CREDENTIAL_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The request-logging middleware: one line per answered request (warn for 4xx, error for 5xx),
 * and a request id taken from `x-request-id` or generated, echoed in the response header.
 */
export function createRequestLogger(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error): LevelWithSilent => {
      const level: Level = error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!QUIET_PATHS.test(req.url ?? '')) return level;
      return level === 'info' ? 'silent' : 'warn';
    },
  });
}
