import { withBearerScheme } from '@zdm/auth-guard';
import type { ServiceOptions } from '@zdm/service-defaults';

/** Who the service is: log field, OpenAPI title and version, and the bearer scheme its logout routes use. */
export const authHubServiceOptions: ServiceOptions = {
  name: 'auth-hub',
  version: '1.0.0',
  description:
    'Auth hub: registers users, logs them in (an EdDSA access JWT and a rotating refresh token), refreshes, logs out, and publishes its public keys at /.well-known/jwks.json.',
  openApi: withBearerScheme,
};
