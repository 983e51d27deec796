import { z } from 'zod';
import { ConfigValidationError, loadServiceConfig } from './service-config.loader';
import { envInt } from './service-config.schema';

const serviceSchema = z.object({
  MONGO_URL: z.string().url(),
  BATCH_SIZE: envInt(1, 1000).default(100),
  FEATURE_X: z.stringbool().default(false),
});

function problemsOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadServiceConfig', () => {
  it('applies the common defaults when nothing is set', () => {
    expect(loadServiceConfig(undefined, {})).toEqual({
      PORT: 3000,
      REQUEST_TIMEOUT_MS: 5000,
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 30000,
      HTTP_BODY_LIMIT: '100kb',
    });
  });

  it('parses the service variables into their types on top of the common ones', () => {
    const config = loadServiceConfig(serviceSchema, {
      MONGO_URL: 'mongodb://localhost:27017/app',
      BATCH_SIZE: '25',
      FEATURE_X: 'yes',
      PORT: '8080',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      MONGO_URL: 'mongodb://localhost:27017/app',
      BATCH_SIZE: 25,
      FEATURE_X: true,
      PORT: 8080,
    });
    expect(config).not.toHaveProperty('UNRELATED');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every missing or invalid variable at once, not only the first', () => {
    const error = problemsOf(() =>
      loadServiceConfig(serviceSchema, { PORT: '80a', LOG_LEVEL: 'loud', BATCH_SIZE: '0', FEATURE_X: 'maybe' }),
    );
    expect(error.problems.map((p) => p.variable).sort()).toEqual(
      ['BATCH_SIZE', 'FEATURE_X', 'LOG_LEVEL', 'MONGO_URL', 'PORT'].sort(),
    );
    expect(error.problems).toContainEqual({ variable: 'MONGO_URL', message: 'is required' });
    expect(error.problems).toContainEqual({ variable: 'PORT', message: 'must be a whole number' });
    for (const name of ['MONGO_URL', 'PORT', 'LOG_LEVEL', 'BATCH_SIZE', 'FEATURE_X']) {
      expect(error.message).toContain(`- ${name}:`);
    }
  });

  it('treats an empty variable as unset, so defaults apply and required ones are reported missing', () => {
    expect(loadServiceConfig(undefined, { PORT: '' }).PORT).toBe(3000);
    const error = problemsOf(() => loadServiceConfig(serviceSchema, { MONGO_URL: '' }));
    expect(error.problems).toEqual([{ variable: 'MONGO_URL', message: 'is required' }]);
  });

  it('lets a service schema override a common variable', () => {
    const config = loadServiceConfig(z.object({ PORT: envInt(1024, 65535).default(4000) }), {});
    expect(config.PORT).toBe(4000);
    expect(() => loadServiceConfig(z.object({ PORT: envInt(1024, 65535) }), { PORT: '80' })).toThrow(/PORT/);
  });
});
