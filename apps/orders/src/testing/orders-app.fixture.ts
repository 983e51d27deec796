import type { NestExpressApplication } from '@nestjs/platform-express';
import { startServiceApp, startServiceProcess, type InstanceEnv, type ServiceProcess } from '@zdm/dev-services';
import path from 'node:path';
import { AppModule } from '../app/app.module';
import { ordersServiceOptions } from '../app/service-options';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Starts the orders service in this process, as `main.ts` configures it but not listening (see `startServiceApp`). */
export function startOrdersApp(env: InstanceEnv): Promise<NestExpressApplication> {
  return startServiceApp(AppModule, ordersServiceOptions, env);
}

/** The customers service of this tree, as its own process on a free port (orders reach it over HTTP, as in production). */
export function startCustomersService(env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess({
    name: 'customers',
    command: path.join(ROOT, 'node_modules', '.bin', 'node'),
    args: ['-r', '@swc-node/register', 'apps/customers/src/main.ts'],
    cwd: ROOT,
    env: { SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json'), ...env },
  });
}
