import { bootstrapService } from '@zdm/service-defaults';
import { AppModule } from './app/app.module';
import { customersServiceOptions } from './app/service-options';

void bootstrapService(AppModule, customersServiceOptions);
