import { Inject } from '@nestjs/common';

/** DI token of the validated {@link ServiceConfig} object. */
export const SERVICE_CONFIG = Symbol('zdm:service-config');

/**
 * Injects the validated configuration. Type the parameter with
 * `ServiceConfig<typeof myConfigSchema>`.
 */
export const InjectServiceConfig = (): ParameterDecorator => Inject(SERVICE_CONFIG);
