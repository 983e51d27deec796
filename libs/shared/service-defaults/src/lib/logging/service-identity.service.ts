import { Injectable } from '@nestjs/common';

/** Who this service is; set by `configureServiceApp`, read by the logger on every line. */
@Injectable()
export class ServiceIdentity {
  /** The service's name, as given to `bootstrapService`. */
  name: string | undefined;
}
