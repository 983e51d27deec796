import type { NestExpressApplication } from '@nestjs/platform-express';
import { startServiceApp, type InstanceEnv } from '@zdm/dev-services';
import { AppModule } from '../app/app.module';
import { customersServiceOptions } from '../app/service-options';

export type { InstanceEnv };

/**
 * Starts the customers service in this process, as `main.ts` configures it but not listening (see
 * `startServiceApp`); `configure` runs before the app initializes (e.g. to add a global interceptor).
 */
export function startCustomersApp(env: InstanceEnv, configure?: (app: NestExpressApplication) => void): Promise<NestExpressApplication> {
  return startServiceApp(AppModule, customersServiceOptions, env, configure);
}
