import type { NestExpressApplication } from '@nestjs/platform-express';
import { withTestJwks } from '@zdm/auth-guard/testing';
import { startServiceApp, type InstanceEnv } from '@zdm/dev-services';
import { AppModule } from '../app/app.module';
import { customersServiceOptions } from '../app/service-options';

export type { InstanceEnv };
export { authorizedHttp, testBearer } from '@zdm/auth-guard/testing';

/**
 * Starts the customers service in this process, as `main.ts` configures it but not listening (see
 * `startServiceApp`); `configure` runs before the app initializes (e.g. to add a global interceptor).
 * Unless `env` names AUTH_JWKS_URL, it verifies tokens of the shared test issuer (`testBearer`, `authorizedHttp` of @zdm/auth-guard/testing).
 */
export async function startCustomersApp(env: InstanceEnv, configure?: (app: NestExpressApplication) => void): Promise<NestExpressApplication> {
  return startServiceApp(AppModule, customersServiceOptions, await withTestJwks(env), configure);
}

