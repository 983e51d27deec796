import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  ServiceUnavailableException,
  UseFilters,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import type { Response } from 'express';
import { ServiceLifecycle } from '../lifecycle/service-lifecycle.service';
import { ReadinessRegistry } from './readiness.registry';

/** Keeps terminus' own body (`{ status, info, error, details }`) on a failed probe. */
@Catch(ServiceUnavailableException)
class HealthCheckFailedFilter implements ExceptionFilter<ServiceUnavailableException> {
  catch(exception: ServiceUnavailableException, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<Response>().status(exception.getStatus()).json(exception.getResponse());
  }
}

/** `GET /health/live` (the process is up) and `GET /health/ready` (it should get traffic). */
@ApiTags('health')
@Controller('health')
@UseFilters(HealthCheckFailedFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessRegistry,
    private readonly lifecycle: ServiceLifecycle,
  ) {}

  /** Liveness: depends on nothing outside the process, and stays up during shutdown. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: every registered check must be up; 503 as soon as shutdown begins. */
  @Get('ready')
  @HealthCheck()
  ready() {
    if (this.lifecycle.isShuttingDown) {
      throw new ServiceUnavailableException({ status: 'shutting_down', info: {}, error: {}, details: {} });
    }
    return this.health.check(this.readiness.indicators());
  }
}
