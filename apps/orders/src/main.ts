import { bootstrapService } from '@zdm/service-defaults';
import { AppModule } from './app/app.module';
import { ordersServiceOptions } from './app/service-options';

void bootstrapService(AppModule, ordersServiceOptions);
