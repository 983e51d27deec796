// Started as a child process by service-process.spec.ts, exactly as a service's main.ts is.
import { bootstrapService } from '../lib/bootstrap/service-app';
import { FixtureModule } from './fixture.module';

void bootstrapService(FixtureModule, { name: 'fixture' });
