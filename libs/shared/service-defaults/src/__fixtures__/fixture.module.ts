import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  NotFoundException,
  type OnModuleInit,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min, MinLength, ValidateNested } from 'class-validator';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { InjectServiceConfig } from '../lib/config/service-config.token';
import type { ServiceConfig } from '../lib/config/service-config.schema';
import { ReadinessRegistry } from '../lib/health/readiness.registry';
import { currentDeadline, waitingOn } from '../lib/resilience/request-deadline';
import { ServiceDefaultsModule } from '../lib/service-defaults.module';

/** The fixture service's own variables: one required, one with a default. */
export const fixtureConfigSchema = z.object({
  FIXTURE_GREETING: z.string().min(2),
  FIXTURE_MAX_SLEEP_MS: z.coerce.number().int().positive().default(10_000),
});

class DimensionsDto {
  @ApiProperty() @IsInt() @Min(1) width!: number;
  @ApiProperty() @IsInt() @Min(1) height!: number;
}

class CreateWidgetDto {
  @ApiProperty() @IsString() @MinLength(2) name!: string;
  @ApiProperty() @IsInt() @Min(0) quantity!: number;
  @ApiProperty({ required: false })
  @IsOptional()
  @ValidateNested()
  @Type(() => DimensionsDto)
  dimensions?: DimensionsDto;
}

class SleepQueryDto {
  @ApiProperty() @Type(() => Number) @IsInt() @Min(0) ms!: number;
}

/** Test switch for the fixture's readiness check. */
@Injectable()
export class FixtureDependency implements OnModuleInit {
  up = true;
  /** What `GET /widgets/store-error` throws. */
  failure: unknown;

  constructor(private readonly readiness: ReadinessRegistry) {}

  onModuleInit(): void {
    this.readiness.register('fixture-dependency', () => {
      if (!this.up) throw new Error('fixture dependency is down');
      return { latencyMs: 1 };
    });
  }
}

@Controller('widgets')
class WidgetsController {
  constructor(
    @InjectServiceConfig() private readonly config: ServiceConfig<typeof fixtureConfigSchema>,
    private readonly dependency: FixtureDependency,
  ) {}

  @Post()
  create(@Body() widget: CreateWidgetDto) {
    return { ...widget, greeting: this.config.FIXTURE_GREETING, isDto: widget instanceof CreateWidgetDto };
  }

  @Get('slow')
  async slow(@Query() { ms }: SleepQueryDto) {
    await sleep(Math.min(ms, this.config.FIXTURE_MAX_SLEEP_MS));
    return { sleptMs: ms };
  }

  @Get('deadline')
  deadline() {
    return { deadline: currentDeadline() ?? null, now: Date.now() };
  }

  /** Waits on a store that never answers: the deadline must cut it short. */
  @Get('stalled-store')
  async stalledStore(@Query() { ms }: SleepQueryDto) {
    const done = waitingOn('fixture-store');
    await sleep(Math.min(ms, this.config.FIXTURE_MAX_SLEEP_MS));
    done();
    return { sleptMs: ms };
  }

  /** Throws what a store client threw (see FixtureDependency.failure). */
  @Get('store-error')
  async storeError() {
    throw this.dependency.failure ?? new Error('no failure set');
  }

  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail');
  }

  @Get(':id')
  get(@Param('id') id: string) {
    if (id !== '1') throw new NotFoundException(`Widget ${id} not found`);
    return { id, name: 'first' };
  }
}

/** A minimal service on top of the defaults, for the e2e and process tests. */
@Module({
  imports: [ServiceDefaultsModule.forRoot({ config: fixtureConfigSchema })],
  controllers: [WidgetsController],
  providers: [FixtureDependency],
})
export class FixtureModule {}
