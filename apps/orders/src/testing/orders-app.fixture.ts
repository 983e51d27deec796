import type { NestExpressApplication } from '@nestjs/platform-express';
import { startServiceProcess, type ServiceProcess } from '@zdm/dev-services';
import { createServiceApp } from '@zdm/service-defaults';
import path from 'node:path';
import { AppModule } from '../app/app.module';
import { ordersServiceOptions } from '../app/service-options';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Environment of one in-process instance; `undefined` removes a variable. */
export type InstanceEnv = Record<string, string | undefined>;

/**
 * Starts the orders service in this process, exactly as `main.ts` configures it but not
 * listening (use `app.getHttpServer()` with supertest). The variables are set only while the
 * app is created, so several instances with different settings can live side by side.
 */
export async function startOrdersApp(env: InstanceEnv): Promise<NestExpressApplication> {
  const saved: InstanceEnv = {};
  for (const [key, value] of Object.entries({ LOG_LEVEL: 'silent', ...env })) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const app = await createServiceApp(AppModule, ordersServiceOptions);
    return await app.init();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
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
