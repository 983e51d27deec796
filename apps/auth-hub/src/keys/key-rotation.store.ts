import type { mongo } from 'mongoose';
import type { KeyRotationState, KeyRotationStore } from './key-rotation';

/** The collection of the auth hub's database that keeps the rotation, beside the control store's `zdm_*` ones. */
export const KEY_ROTATIONS_COLLECTION = 'zdm_key_rotations';

type RotationDocument = Omit<KeyRotationState, 'id'> & { _id: string };

/**
 * The rotation state in the auth hub's MongoDB database, saved with compare-and-set on `revision`
 * (an insert of the `_id` for the first save, a replace matching the revision afterwards), as the
 * control store saves migration states, with the same guarantee: the first save is an insert of a
 * unique `_id`, atomic everywhere; later ones are conditional replaces, atomic on MongoDB, while on
 * FerretDB 1.x (which reads and writes an update in separate steps) two saves racing at the same
 * instant could both land.
 */
export function createMongoKeyRotationStore(db: mongo.Db): KeyRotationStore {
  const rotations = db.collection<RotationDocument>(KEY_ROTATIONS_COLLECTION);
  return {
    async load(id) {
      const doc = await rotations.findOne({ _id: id });
      if (!doc) return null;
      const { _id, ...rest } = doc;
      return { id: _id, ...rest };
    },
    async save(state, expectedRevision) {
      const { id, ...rest } = state;
      const next = { ...rest, revision: expectedRevision + 1 };
      if (expectedRevision === 0) {
        try {
          await rotations.insertOne({ _id: id, ...next });
          return true;
        } catch (err) {
          if ((err as { code?: number }).code === 11000) return false;
          throw err;
        }
      }
      const { matchedCount } = await rotations.replaceOne({ _id: id, revision: expectedRevision }, next);
      return matchedCount === 1;
    },
  };
}
