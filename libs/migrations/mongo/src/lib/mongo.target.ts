import { MigrationTarget, TargetKind } from '@zdm/migrations-core';

/** A MongoDB collection migrated by this adapter: `{ kind: 'mongo', collection }`. */
export interface MongoTarget extends MigrationTarget {
  kind: 'mongo';
  /** Collection name, as mongoose stores it. */
  collection: string;
}

/** The mongo adapter's targets, and what makes one valid. */
export const mongoTargetKind: TargetKind<MongoTarget> = {
  kind: 'mongo',
  problems: (target) => (typeof target['collection'] === 'string' && target['collection'] ? [] : ['target.collection is required']),
};
