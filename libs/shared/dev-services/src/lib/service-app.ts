import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createServiceApp, type ServiceOptions } from '@zdm/service-defaults';

/** Environment of one in-process instance; `undefined` removes a variable. */
export type InstanceEnv = Record<string, string | undefined>;

/**
 * Starts a service in this process, exactly as its `main.ts` configures it but not listening (use
 * `app.getHttpServer()` with supertest), logs silent unless `env` says otherwise. The variables are
 * set only while the app is created, so several instances with different settings can live side by side.
 * `configure` runs before the app initializes (e.g. to add a global interceptor).
 */
export async function startServiceApp(module: Type, options: ServiceOptions, env: InstanceEnv, configure?: (app: NestExpressApplication) => void): Promise<NestExpressApplication> {
  const saved: InstanceEnv = {};
  for (const [key, value] of Object.entries({ LOG_LEVEL: 'silent', ...env })) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const app = await createServiceApp(module, options);
    configure?.(app);
    return await app.init();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
