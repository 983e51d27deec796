import type { MigrationDefinition } from '@zdm/migrations-core';
import type { mongo } from 'mongoose';
import path from 'node:path';
import type { RequestMix } from '../load.model';
import type { ServiceLoadSpec } from '../load.protocol';
import type { ZdmDriver } from '../zdm.driver';
import type { ReadProblem } from './traffic';

/** The workspace root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');

/** What a service's seed gets to see: the seeds of the services seeded before it. */
export interface SeedContext {
  seeded: Record<string, ServiceLoadSpec>;
}

/**
 * One service of the demo: everything the story needs to know about it, so that the story itself
 * (fleet, load balancer, load, faults, proof, report) stays the same for every service.
 */
export interface DemoService {
  /** Service name: its API path (`/<name>`), database, process names, apps/<name>/zdm.config.ts. */
  name: string;
  /** Its MongoDB collection (in the database of the same name as the service). */
  collection: string;
  /** The migrations its green build registers, in the order they are walked. */
  migrations: readonly MigrationDefinition[];
  /** Seeds `count` documents in the shape the blue build writes; resolves to the load's seeds. */
  seed(db: mongo.Db, count: number, context: SeedContext): Promise<ServiceLoadSpec>;
  /** Its requests in the load mix (`<name>.<kind>` weights). */
  mix: RequestMix;
  /** What is wrong with `GET /<name>/:id`'s answer, given the last acknowledged value. */
  check(expected: never, body: Record<string, unknown>): ReadProblem | null;
  /** What an inconsistent read means, for the report ("customer(s) have a fullName that is not their names joined"). */
  inconsistency: string;
  /** Environment of its instances beyond the common one (e.g. where customers is, where the auth hub's keys are). */
  env?(context: InstanceEnvContext): Record<string, string>;
  /**
   * Set on the auth hub: the load registers users there, logs in, refreshes, and sends an access
   * token with every write. `path` is where the load balancer serves it (e.g. `/auth`).
   */
  issuesTokens?: { path: string };
  /**
   * The documented fix path for documents a migration quarantined (`zdm quarantine`: look, patch,
   * retry), run when `zdm run` stops on them (exit 6); without it such a run fails the demo.
   */
  fixQuarantine?(context: QuarantineFixContext): Promise<QuarantineFix>;
}

/** What {@link DemoService.env} is given. */
export interface InstanceEnvContext {
  /** The load balancer's URL, as every client reaches the services. */
  lbUrl: string;
  /** The Redis server of the run. */
  redisUrl: string;
  /** The run's temp directory (process logs; secrets such as a signing key, never committed). */
  workDir: string;
}

/** Where a service that verifies access tokens fetches the auth hub's keys, behind the load balancer. */
export const jwksUrlBehind = (lbUrl: string): string => `${lbUrl}/auth/.well-known/jwks.json`;

/** What {@link DemoService.fixQuarantine} works with. */
export interface QuarantineFixContext {
  /** The `zdm` CLI on this service's config and database. */
  zdm: ZdmDriver;
  migration: string;
  db: mongo.Db;
  log: (line: string) => void;
}

/** What a fix did: documents found quarantined, fixed, and the reasons given. */
export interface QuarantineFix {
  found: number;
  fixed: number;
  reasons: Record<string, number>;
}

/** The `zdm` config of a service in this checkout. */
export const zdmConfigOf = (service: string): string => path.join(ROOT, 'apps', service, 'zdm.config.ts');

/** The highest version any of the migrations writes. */
export const finalVersionOf = (s: DemoService): number => Math.max(1, ...s.migrations.map((d) => d.to));

/** Fields the migrations remove at contract. */
export const removedFieldsOf = (s: DemoService): string[] => [...new Set(s.migrations.flatMap((d) => d.removedFields ?? []))];
