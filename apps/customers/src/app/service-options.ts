import { withBearerScheme } from '@zdm/auth-guard';
import type { ServiceOptions } from '@zdm/service-defaults';

/** Who the service is: log field, OpenAPI title, and the API version OpenAPI shows. */
export const customersServiceOptions: ServiceOptions = {
  name: 'customers',
  version: '1.1.0',
  description:
    'Customers: create, read, change, delete and page through customers. 1.1 adds fullName, status and marketingPreferences; every 1.0 field keeps its meaning. Writes need an access token from the auth hub (Authorization: Bearer); reads are open.',
  openApi: withBearerScheme,
};
