import type { NestExpressApplication } from '@nestjs/platform-express';
import { createServiceApp } from '@zdm/service-defaults';
import { AppModule } from '../app/app.module';
import { customersServiceOptions } from '../app/service-options';

/** Environment of one in-process instance; `undefined` removes a variable. */
export type InstanceEnv = Record<string, string | undefined>;

/**
 * Starts the customers service in this process, exactly as `main.ts` configures it but not
 * listening (use `app.getHttpServer()` with supertest). The variables are set only while the
 * app is created, so several instances with different settings can live side by side.
 * `configure` runs before the app initializes (e.g. to add a global interceptor).
 */
export async function startCustomersApp(env: InstanceEnv, configure?: (app: NestExpressApplication) => void): Promise<NestExpressApplication> {
  const saved: InstanceEnv = {};
  for (const [key, value] of Object.entries({ LOG_LEVEL: 'silent', ...env })) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const app = await createServiceApp(AppModule, customersServiceOptions);
    configure?.(app);
    return await app.init();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
