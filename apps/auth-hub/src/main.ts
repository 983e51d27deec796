import { bootstrapService } from '@zdm/service-defaults';
import { AppModule } from './app/app.module';
import { authHubServiceOptions } from './app/service-options';

void bootstrapService(AppModule, authHubServiceOptions);
