import type { NestExpressApplication } from '@nestjs/platform-express';
import { withTestJwks } from '@zdm/auth-guard/testing';
import { startServiceApp, startServiceProcess, type InstanceEnv, type ServiceProcess } from '@zdm/dev-services';
import path from 'node:path';
import { AppModule } from '../app/app.module';
import { ordersServiceOptions } from '../app/service-options';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export { authorizedHttp, testBearer } from '@zdm/auth-guard/testing';

/**
 * Starts the orders service in this process, as `main.ts` configures it but not listening (see
 * `startServiceApp`); unless `env` names AUTH_JWKS_URL, it verifies tokens of the shared test issuer.
 */
export async function startOrdersApp(env: InstanceEnv): Promise<NestExpressApplication> {
  return startServiceApp(AppModule, ordersServiceOptions, await withTestJwks(env));
}

/**
 * The customers service of this tree, as its own process on a free port (orders reach it over HTTP,
 * as in production); unless `env` names AUTH_JWKS_URL, it verifies tokens of the shared test issuer.
 */
export async function startCustomersService(env: Record<string, string>): Promise<ServiceProcess> {
  env = await withTestJwks(env);
  return startServiceProcess({
    name: 'customers',
    command: path.join(ROOT, 'node_modules', '.bin', 'node'),
    args: ['-r', '@swc-node/register', 'apps/customers/src/main.ts'],
    cwd: ROOT,
    env: { SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json'), ...env },
  });
}
