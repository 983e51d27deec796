export { createMongoControlStore, controlCollectionNames, type MongoControlStoreOptions } from './lib/mongo-control.store';
export {
  createMongoBackend,
  mongoUnexpandStep,
  jobFilter,
  belowVersionFilter,
  withAnyFieldFilter,
  type MongoBackend,
  type MongoBackendOptions,
} from './lib/mongo.backend';
export { mongoTargetKind, type MongoTarget } from './lib/mongo.target';
export { MongoCollectionTarget, toTargetItem, type MongoCas } from './lib/mongo-collection.target';
export { matchesCasFilter, type BatchWriter, type BatchWriterOptions, type BatchWriteResult, type ConditionalWrite } from './lib/document-batch.writer';
export { UndoLog } from './lib/undo.log';
export { encodeId, decodeId, afterIdFilter } from './lib/mongo-id.codec';
export {
  createUpcaster,
  isUnreadableVersion,
  UnreadableVersionError,
  UnwritableVersionError,
  type Upcaster,
  type UpcastEvent,
  type UpcastResult,
  type VersionedOptions,
} from './lib/schema-version.upcaster';
export { versionedPlugin, stampUpdate, stampReplacement, type VersionedModelStatics, type VersionedPluginOptions } from './lib/versioned.plugin';
export { runMongoJob, type RunMongoJobOptions } from './lib/mongo-job.runner';
export {
  createDocumentWriter,
  beforeDeadlineFilter,
  WriteConflictError,
  WriteDeadlineExceededError,
  type DocumentUpdateStep,
  type DocumentWriter,
  type DocumentWriterOptions,
  type UpdateOptions,
  type UpdateResult,
  type WriteMode,
  type WriteOptions,
} from './lib/document.writer';
export { hasAtomicUpdates, type DocumentClaimsOptions } from './lib/document.claims';
export { isTransientLock, retryWhileLocked } from './lib/mongo-driver.util';
export {
  VersionedRepository,
  DocumentWriteConflictError,
  versionedModel,
  isObjectIdHex,
  type DocumentChange,
  type DocumentPage,
  type DocumentWriteOptions,
  type ModelVersionOptions,
  type StoredDocument,
  type VersionedModelOptions,
  type VersionedRepositoryOptions,
} from './lib/versioned.repository';
