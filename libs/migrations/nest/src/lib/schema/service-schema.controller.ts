import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type ControlStore, type MigrationPhaseRecord, PHASES, SCHEMA_PATH, type ServiceSchemaReport, serviceSchemaReport } from '@zdm/migrations-core';
import { BuildSchemas, migrationsOf } from '../heartbeat/build-schemas.service';
import { CONTROL_STORE } from '../migrations.options';
import { RESOLVED_OPTIONS, type ResolvedMigrationsOptions } from '../migrations.providers';

const documents = {
  type: 'object',
  description: 'Per target (collection or key pattern): the versions read and the one written now',
  additionalProperties: {
    type: 'object',
    required: ['readMin', 'readMax', 'writes'],
    properties: { readMin: { type: 'integer' }, readMax: { type: 'integer' }, writes: { type: 'integer' } },
  },
};
const phase = { type: 'string', enum: [...PHASES] };

/** The OpenAPI schema of {@link ServiceSchemaReport}. */
const reportSchema = {
  type: 'object',
  required: ['service', 'instance', 'documents', 'migrations', 'instances', 'at'],
  properties: {
    service: { type: 'string', example: 'customers' },
    instance: {
      type: 'object',
      description: 'The instance that answered',
      required: ['instanceId', 'build'],
      properties: { instanceId: { type: 'string' }, build: { type: 'string' }, api: { type: 'string', description: 'API version this instance serves', example: '1.1.0' } },
    },
    documents,
    migrations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'description', 'target', 'from', 'to', 'strategy', 'phases', 'phase', 'since', 'requires'],
        properties: {
          id: { type: 'string', example: 'customers.full-name' },
          description: { type: 'string' },
          target: { type: 'string' },
          from: { type: 'integer' },
          to: { type: 'integer' },
          strategy: { type: 'string', enum: ['expand-contract', 'additive'] },
          phases: { type: 'array', items: phase, description: 'Its forward path, in order' },
          phase: { ...phase, description: 'The phase it is in now' },
          since: { type: 'string', format: 'date-time', nullable: true },
          requires: {
            type: 'array',
            description: "Other services' steps it waits for",
            items: { type: 'object', required: ['service', 'migration', 'phase'], properties: { service: { type: 'string' }, migration: { type: 'string' }, phase } },
          },
        },
      },
    },
    instances: {
      type: 'array',
      description: 'Every live instance of the service, as its heartbeat says',
      items: {
        type: 'object',
        required: ['instanceId', 'build', 'documents'],
        properties: {
          instanceId: { type: 'string' },
          build: { type: 'string' },
          documents,
          facts: {
            type: 'object',
            description: 'Other facts the instance reports, by name (e.g. auth.jwks-kids: the key ids its token verifier has fetched)',
            additionalProperties: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
    at: { type: 'string', format: 'date-time' },
  },
};

/**
 * `GET /.well-known/zdm/schema`, read-only: what this service tells other services about its
 * schema. Its migrations with their phases (from its own control store), the versions this
 * instance and every live instance read and write, and the API version this instance serves.
 * Other services' gates read it (`HttpServiceSchemas`) instead of reaching into this service's data.
 */
@ApiTags('zdm')
@Controller()
export class ServiceSchemaController {
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedMigrationsOptions,
    @Inject(CONTROL_STORE) private readonly store: ControlStore,
    private readonly schemas: BuildSchemas,
  ) {}

  @Get(SCHEMA_PATH)
  @ApiOperation({ summary: "This service's migrations, their phases, and the document and API versions it serves" })
  @ApiOkResponse({ schema: reportSchema })
  async schema(): Promise<ServiceSchemaReport> {
    const { service, build, instanceId, apiVersion, registry } = this.options;
    const [states, heartbeats] = await Promise.all([this.store.state.list(), this.store.heartbeats.live()]);
    return serviceSchemaReport({
      service,
      instance: apiVersion ? { instanceId, build, api: apiVersion } : { instanceId, build },
      documents: this.schemas.support(),
      migrations: migrationsOf(registry, service),
      states: new Map<string, MigrationPhaseRecord>(states.map((s) => [s.id, s])),
      heartbeats,
    });
  }
}
