import { withBearerScheme } from '@zdm/auth-guard';
import type { ServiceOptions } from '@zdm/service-defaults';

/** Who the service is: log field, OpenAPI title, and the API version OpenAPI shows. */
export const ordersServiceOptions: ServiceOptions = {
  name: 'orders',
  version: '1.2.0',
  description: 'Orders: place an order for a customer of the customers service, read it, page through orders, and move it through placed → paid → shipped → delivered (or cancelled before shipped). 1.1 adds the amounts in integer minor units with their currency (totalMoney, lines[].unitPriceMoney); 1.2 adds customer.fullName. Every earlier field keeps its meaning. Writes need an access token from the auth hub (Authorization: Bearer); reads are open.',
  openApi: withBearerScheme,
};
